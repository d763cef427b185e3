import { expect, type Page } from '@playwright/test';

/** The studio's Training tab with the embedded tiny model loaded, as a newcomer opens it. */
export async function openTrainingOnEmbedded(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('tab-training').click();
  await page.getByTestId('train-load-embedded').click();
  await expect(page.getByTestId('train-model')).toContainText('embedded tiny model');
}
