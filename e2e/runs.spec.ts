import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';

// A CLI run's events.jsonl, written here: GRPO steps with a held-out and a benchmark evaluation at the last.
function cliEvents(rewards: number[]): string {
  const step = (n: number, reward: number) => ({
    type: 'step', step: n, rewardMean: reward, rewardStd: 0.1, formatRate: 0.5, loss: 0.01, kl: 0, clipFraction: 0, entropy: 1.2, gradNorm: 0.3,
    lr: 5e-4, skipped: 0, trainedSequences: 4, completionLength: 40, tokensPerSec: 20, rolloutMs: 1000, scoringMs: 1, updateMs: 2000,
  });
  const last = rewards.length;
  return [
    ...rewards.map((r, i) => step(i + 1, r)),
    { type: 'eval', step: last, meanReward: 0.5, examples: 2 },
    { type: 'bench', step: last, bench: 'synthetic', accuracy: 0.5, correct: 1, total: 2, ms: 10, categories: [{ category: 'single', accuracy: 0.5, correct: 1, total: 2 }] },
    { type: 'done', step: last, stopped: false },
  ].map((e) => JSON.stringify(e) + '\n').join('');
}

// Runs side by side without training (the Training spec covers a run's own events): two CLI runs' events.jsonl
// opened as runs, overlaid on the same charts, renamed, exported as JSON Lines, CSV and a chart's PNG, deleted.
test('runs: CLI event logs open as runs, overlay, rename, export and delete', async ({ page }, testInfo) => {
  const pageErrors = collectPageErrors(page);
  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('tab-training').click();
  const rows = page.getByTestId('run-row');
  await expect(page.getByTestId('runs-card')).toContainText('No runs kept yet');

  const open = async (name: string, rewards: number[]) => {
    const path = testInfo.outputPath(name);
    writeFileSync(path, cliEvents(rewards));
    await page.getByTestId('runs-open-input').setInputFiles(path);
  };
  await open('binary.jsonl', [0.25, 0.5]);
  await open('partial.jsonl', [0.3, 0.4, 0.6]);
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-name', 'binary');
  await expect(rows.nth(1)).toContainText('opened from a file');

  // Both land overlaid: one series each over the union of their steps.
  const overlay = page.getByTestId('overlay');
  await expect(overlay.locator('.overlay-legend li')).toHaveCount(2);
  await expect(page.getByTestId('overlay-reward')).toHaveAttribute('data-points', '3');
  await expect(page.getByTestId('overlay-reward').locator('.chart-value')).toHaveText(['binary 0.50', 'partial 0.60']);
  await expect(page.getByTestId('overlay-bench')).toBeVisible();
  await rows.nth(1).getByTestId('run-overlay').uncheck();
  await expect(overlay.locator('.overlay-legend li')).toHaveCount(1);
  await rows.nth(1).getByTestId('run-overlay').check();

  // Renamed in place; the overlay follows.
  await rows.nth(0).getByTestId('run-name').click();
  await page.getByTestId('run-rename').fill('binary reward');
  await page.getByTestId('run-rename').press('Enter');
  await expect(rows.nth(0)).toHaveAttribute('data-name', 'binary reward');
  await expect(overlay.locator('.overlay-legend')).toContainText('binary reward');

  // Exports: the events as the CLI wrote them, a CSV row per step, a chart as PNG.
  const save = async (click: () => Promise<void>) => {
    const [download] = await Promise.all([page.waitForEvent('download'), click()]);
    const path = testInfo.outputPath(download.suggestedFilename());
    await download.saveAs(path);
    return { name: download.suggestedFilename(), bytes: readFileSync(path) };
  };
  const events = await save(() => rows.nth(1).getByTestId('run-jsonl').click());
  expect(events.name).toBe('partial.events.jsonl');
  expect(events.bytes.toString('utf8')).toBe(cliEvents([0.3, 0.4, 0.6]));
  const csv = await save(() => rows.nth(0).getByTestId('run-csv').click());
  expect(csv.name).toBe('binary_reward.csv');
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  expect(lines[0]).toMatch(/^step,rewardMean,.*,heldoutReward,synthetic_accuracy,synthetic_single$/);
  expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['1,0.25', '2,0.5']);
  const png = await save(() => page.getByTestId('overlay-reward-png').click());
  expect(png.name).toBe('overlay-reward.png');
  expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');

  // Deleted after a confirmation; kept runs survive a reload.
  page.once('dialog', (d) => void d.accept());
  await rows.nth(1).getByTestId('run-delete').click();
  await expect(rows).toHaveCount(1);
  await expect(overlay.locator('.overlay-legend li')).toHaveCount(1);
  await page.reload();
  await page.getByTestId('tab-training').click();
  await expect(rows).toHaveCount(1);
  await expect(rows.nth(0)).toHaveAttribute('data-name', 'binary reward');
  expect(pageErrors).toEqual([]);
});
