import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';

// BFCL-format files made here (two entries), the way a user picks them: question files and possible answers.
function bfclFiles(dir: string): { questions: string[]; answers: string[] } {
  mkdirSync(join(dir, 'possible_answer'), { recursive: true });
  const area = {
    name: 'triangle_area',
    description: 'Area of a triangle.',
    parameters: {
      type: 'dict',
      properties: { base: { type: 'integer', description: 'base length' }, height: { type: 'integer', description: 'height' } },
      required: ['base', 'height'],
    },
  };
  const simple = { id: 'simple_0', question: [[{ role: 'user', content: 'Area of a triangle with base 10 and height 5?' }]], function: [area] };
  const irrelevant = { id: 'irrelevance_0', question: [[{ role: 'user', content: 'Who wrote Hamlet?' }]], function: [area] };
  const answer = { id: 'simple_0', ground_truth: [{ triangle_area: { base: [10], height: [5] } }] };
  const file = (path: string, record: object) => {
    writeFileSync(join(dir, path), JSON.stringify(record) + '\n');
    return join(dir, path);
  };
  return {
    questions: [file('BFCL_v3_simple.json', simple), file('BFCL_v3_irrelevance.json', irrelevant)],
    answers: [file('possible_answer/BFCL_v3_simple.json', answer)],
  };
}

test('benchmarks: the synthetic held-out split and picked BFCL files run on the loaded model', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const pageErrors = collectPageErrors(page);

  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('tab-playground').click();
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-info')).toContainText('embedded tiny model');
  await page.getByTestId('tab-benchmarks').click();

  // Two synthetic held-out prompts, greedy, a few tokens each: the default's answers open with <think>.
  await page.getByTestId('bench-synthetic').click();
  await page.getByTestId('bench-count').fill('2');
  await page.getByTestId('bench-max-new-tokens').fill('8');
  await page.getByTestId('bench-run').click();
  const status = page.getByTestId('bench-status');
  await expect(status).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('bench-progress')).toContainText('2 of 2');
  await expect(page.getByTestId('bench-summary')).toContainText('Mean reward');
  await expect(page.getByTestId('bench-entry')).toHaveCount(2);
  await page.getByTestId('bench-entry').first().click();
  await expect(page.getByTestId('bench-entries').locator('.segments')).toBeVisible();
  // The default starts its answer with a think part even on prompts with tools it never saw.
  await expect(page.getByTestId('bench-entries').getByTestId('segment-think')).toBeVisible();

  // BFCL: question files and their possible answers through the two pickers.
  const files = bfclFiles(testInfo.outputPath('bfcl'));
  await page.getByTestId('bench-bfcl').click();
  await page.getByTestId('bench-questions-input').setInputFiles(files.questions);
  await page.getByTestId('bench-answers-input').setInputFiles(files.answers);
  await expect(page.getByTestId('bench-files')).toContainText('possible_answer/BFCL_v3_simple.json');
  await page.getByTestId('bench-run').click();
  await expect(status).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const summary = page.getByTestId('bench-summary');
  await expect(summary).toContainText('Tool-N1 paper’s aggregation');
  await expect(summary).toContainText('BFCL v3’s own summaries');
  await expect(page.locator('[data-testid="bench-category"][data-category="simple"]')).toContainText('Simple (Python only)');
  await expect(page.locator('[data-testid="bench-category"][data-category="irrelevance"]')).toContainText('1');
  await expect(page.getByTestId('bench-entry')).toHaveCount(2);

  const shot = 'test-results/benchmarks.png';
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('benchmarks', { path: shot, contentType: 'image/png' });
  expect(pageErrors).toEqual([]);
});
