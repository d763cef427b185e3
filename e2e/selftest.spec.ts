import { expect, test } from '@playwright/test';
import { BASE_ARGS, chromiumPath } from './chromium.ts';
import { collectPageErrors } from './page-errors.ts';

test('the studio finds the WebGPU adapter and the matmul self-test passes on it', async ({ page }, testInfo) => {
  const pageErrors = collectPageErrors(page);

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Tool-N1 Studio' })).toBeVisible();

  // Adapter panel: whatever adapter this machine has (SwiftShader here), but it must report itself.
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('gpu-vendor')).not.toBeEmpty();
  await expect(page.getByTestId('gpu-architecture')).not.toBeEmpty();
  await expect(page.getByTestId('gpu-limit-maxBufferSize')).toContainText(/\d/);
  await expect(page.getByTestId('gpu-features').locator('li').first()).toBeVisible();

  // The self-test runs once by itself at start.
  const summary = page.getByTestId('selftest-summary');
  await expect(summary).toHaveAttribute('data-status', 'pass');
  const cases = page.getByTestId('selftest-case');
  await expect(cases).toHaveCount(6);
  await expect(page.locator('[data-testid="selftest-case"][data-pass="false"]')).toHaveCount(0);

  // And again on demand.
  await page.getByTestId('selftest-run').click();
  await expect(summary).toHaveAttribute('data-status', 'pass');
  await expect(cases).toHaveCount(6);

  const shot = 'test-results/studio-selftest.png';
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('studio-selftest', { path: shot, contentType: 'image/png' });
  expect(pageErrors).toEqual([]);
});

test('without the WebGPU flag the page says so and how to enable it', async ({ playwright, baseURL }) => {
  const browser = await playwright.chromium.launch({ executablePath: chromiumPath(), args: BASE_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(baseURL!);
    const error = page.getByTestId('gpu-error');
    await expect(error).toBeVisible();
    await expect(error).toHaveAttribute('data-code', /^(no-webgpu|no-adapter)$/);
    await expect(error).toContainText('chrome://flags/#enable-unsafe-webgpu');
    await expect(error).toContainText('--enable-unsafe-webgpu --enable-features=Vulkan');
    await expect(page.getByTestId('selftest-panel')).toHaveCount(0);
  } finally {
    await browser.close();
  }
});
