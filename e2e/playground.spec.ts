import { expect, test } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';

// The embedded tiny model is warm-started on the synthetic task (scripts/warm_start.py): greedy, it answers with a
// think part and a tool call (its tools are not the playground's, so the call is rarely right), shown as segments.
test('the playground loads the embedded model and streams G completions', async ({ page }, testInfo) => {
  test.setTimeout(240_000); // 2 × 32 tokens: the greedy answer reaches its <tool_call> at token 22
  const pageErrors = collectPageErrors(page);

  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('tab-playground').click();

  await page.getByTestId('source-embedded').click();
  await page.getByTestId('load-model').click();
  const info = page.getByTestId('model-info');
  await expect(info).toContainText('embedded tiny model');
  await expect(info).toContainText('2 × 64');

  // The form comes prefilled from the example set; the prompt preview shows the thinking template.
  await expect(page.getByTestId('question')).not.toBeEmpty();
  await expect(page.getByTestId('tool-get_weather')).toBeChecked();
  await page.getByTestId('example-2').click();
  await expect(page.getByTestId('tool-create_calendar_event')).toBeChecked();
  await page.getByTestId('prompt-preview').locator('summary').click();
  await expect(page.getByTestId('prompt-preview')).toContainText('<tools>');

  await page.getByTestId('example-0').click();
  await page.getByTestId('param-n').fill('2');
  await page.getByTestId('param-max-new-tokens').fill('32');
  await page.getByTestId('param-temperature').fill('0');
  await page.getByTestId('generate').click();

  const completions = page.getByTestId('completions');
  await expect(completions).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
  const cards = page.getByTestId('completion');
  await expect(cards).toHaveCount(2);
  for (const card of await cards.all()) {
    expect(Number(await card.getAttribute('data-tokens'))).toBeGreaterThan(0);
  }
  await expect(cards.first().getByTestId('segment-think')).toBeVisible();
  await expect(cards.first().getByTestId('segment-tool_call')).toBeVisible();
  await expect(page.getByTestId('timings')).toContainText(/prefill [\d.]+ tok\/s/);
  await expect(page.getByTestId('timings')).toContainText(/decode [\d.]+ tok\/s/);

  // The raw view shows exactly what was sampled.
  await cards.first().getByTestId('raw-toggle').click();
  await expect(cards.first().getByTestId('completion-raw')).toBeVisible();

  const shot = 'test-results/playground.png';
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('playground', { path: shot, contentType: 'image/png' });
  expect(pageErrors).toEqual([]);
});

test('a model load can be cancelled, a model replaced and a generation stopped', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('tab-playground').click();
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-info')).toContainText('embedded tiny model');

  // Hold the weights back so the second load is still running when Cancel comes; the first model stays.
  await page.route('**/models/tiny/model.safetensors', async (route) => {
    await new Promise((r) => setTimeout(r, 10_000));
    await route.continue().catch(() => {});
  });
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('load-progress')).toBeVisible();
  await page.getByTestId('load-cancel').click();
  await expect(page.getByTestId('load-error')).toHaveAttribute('data-code', 'cancelled');
  await expect(page.getByTestId('model-info')).toContainText('embedded tiny model');

  // Loading again replaces the model (the old weights are freed first); generation runs on the new one.
  await page.unroute('**/models/tiny/model.safetensors');
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('load-error')).toHaveCount(0);
  await expect(page.getByTestId('model-info')).toContainText('embedded tiny model');

  // A long run, stopped once the first tokens are in.
  await page.getByTestId('param-n').fill('1');
  await page.getByTestId('param-max-new-tokens').fill('2000');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('completion')).toHaveAttribute('data-state', 'streaming');
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('completions')).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('timings')).toContainText('stopped');
  expect(Number(await page.getByTestId('completion').getAttribute('data-tokens'))).toBeLessThan(2000);
});
