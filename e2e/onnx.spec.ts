import { expect, test, type Page } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';

/** Every .wasm the page or its Worker fetched: onnxruntime-web's must come from the studio's own build. */
function wasmRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.endsWith('.wasm')) urls.push(r.url());
  });
  return urls;
}

// onnxruntime-web beside the engine: the Playground exports the loaded model in the Worker and decodes it on
// the WASM EP, and the Benchmarks use it too; the GPU tab cross-checks the engine's logits against ORT's.
test('onnxruntime-web (WASM) decodes the embedded model in the Playground and the Benchmarks; Export ONNX gives its folder', async ({ page, baseURL }) => {
  test.setTimeout(240_000);
  const pageErrors = collectPageErrors(page);
  const wasm = wasmRequests(page);
  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('tab-playground').click();
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-info')).toContainText('embedded tiny model');

  await page.getByTestId('backend-ort-wasm').click();
  await expect(page.getByTestId('generate')).toBeDisabled(); // nothing on that backend yet
  await page.getByTestId('ort-source-loaded').click();
  await page.getByTestId('ort-load').click();
  await expect(page.getByTestId('ort-model')).toHaveAttribute('data-loaded', 'true', { timeout: 120_000 });
  await expect(page.getByTestId('ort-model')).toContainText('onnxruntime-web (WASM) runs embedded tiny model');
  // Served cross-origin isolated (COOP/COEP in vite.config.ts): the WASM EP runs on min(4, cores) threads.
  const { isolated, cores } = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
  expect(isolated).toBe(true);
  const threads = Math.min(4, cores);
  await expect(page.getByTestId('ort-model')).toContainText(`${threads} WASM thread${threads === 1 ? '' : 's'}`);

  await page.getByTestId('param-n').fill('2');
  await page.getByTestId('param-max-new-tokens').fill('24');
  await page.getByTestId('param-temperature').fill('0');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('completions')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const cards = page.getByTestId('completion');
  await expect(cards).toHaveCount(2);
  for (const card of await cards.all()) expect(Number(await card.getAttribute('data-tokens'))).toBeGreaterThan(0);
  await expect(cards.first().getByTestId('segment-think')).toBeVisible(); // the default's greedy answer opens with its think part
  await expect(page.getByTestId('timings')).toContainText('on onnxruntime-web');

  await page.getByTestId('onnx-export-loaded').getByTestId('export-onnx').click();
  await expect(page.getByTestId('onnx-export-file')).toHaveText(/onnx\.tar$/);

  // The Benchmarks tab decodes on the same backend.
  await page.getByTestId('tab-benchmarks').click();
  await page.getByTestId('bench-backend-ort-wasm').click();
  await expect(page.getByTestId('ort-model')).toContainText('embedded tiny model');
  await page.getByTestId('bench-count').fill('2');
  await page.getByTestId('bench-max-new-tokens').fill('8');
  await page.getByTestId('bench-run').click();
  await expect(page.getByTestId('bench-status')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('bench-status')).toContainText('embedded tiny model on onnxruntime-web (wasm)');

  expect(wasm.length).toBeGreaterThan(0);
  for (const url of wasm) expect(url.startsWith(baseURL!)).toBe(true);
  expect(pageErrors).toEqual([]);
});

test('the GPU tab cross-checks the engine against onnxruntime-web: logits within 1e-4', async ({ page }) => {
  test.setTimeout(240_000);
  const pageErrors = collectPageErrors(page);
  await page.goto('/');
  await expect(page.getByTestId('selftest-summary')).toHaveAttribute('data-status', 'pass');
  for (const backend of ['wasm', 'webgpu']) {
    await page.getByTestId(`crosscheck-run-${backend}`).click();
    const result = page.locator(`[data-testid="crosscheck-result"][data-backend="${backend}"]`);
    await expect(result).toHaveAttribute('data-status', 'pass', { timeout: 120_000 });
    await expect(result).toContainText('embedded tiny model');
  }
  expect(pageErrors).toEqual([]);
});
