import { expect, test } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';
import { openTrainingOnEmbedded } from './studio.ts';

// The paper's SFT vs SFT→GRPO vs GRPO set, for real on the embedded tiny model: one step each on the
// shortest prompts. The three runs go one after another (the second from the first's policy), each is kept
// under its variant's name, and they land overlaid: SFT's loss and the two GRPO runs' rewards.
test('the SFT vs SFT→GRPO vs GRPO ablation set runs one after another and lands overlaid', async ({ page }) => {
  test.setTimeout(600_000); // ~3 min here: an SFT step and two GRPO steps on a CPU adapter
  const pageErrors = collectPageErrors(page);
  await openTrainingOnEmbedded(page);

  const set = async (testid: string, value: number) => page.getByTestId(testid).fill(String(value));
  await set('data-train-size', 32);
  await set('data-heldout-size', 8);
  await set('max-prompt-tokens', 360);
  await set('steps', 1);
  await set('prompts-per-step', 1);
  await set('group-size', 2);
  await set('max-new-tokens', 6);
  await set('micro-batch', 2);
  await set('eval-every', 0);
  await set('checkpoint-every', 0);
  await page.getByTestId('method-sft').click();
  await set('sft-steps', 1);
  await set('sft-batch-size', 2);
  await set('sft-micro-batch', 2);
  await set('sft-eval-every', 0);
  await set('sft-checkpoint-every', 0);
  await page.getByTestId('method-grpo').click();

  await page.getByTestId('ablation-methods').click();
  const status = page.getByTestId('ablation-status');
  await expect(status).toContainText('SFT vs GRPO vs SFT→GRPO: run 1 of 3');
  await expect(page.getByTestId('steps')).toBeDisabled();
  await expect(status).toContainText('run 2 of 3', { timeout: 240_000 });
  await expect(status).toContainText('run 3 of 3', { timeout: 240_000 });
  await expect(status).toBeHidden({ timeout: 240_000 });
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('runs-error')).toBeHidden();

  // Kept under the variants' names, each with its one step.
  const rows = page.getByTestId('run-row');
  const names = ['SFT', 'SFT→GRPO', 'GRPO'].map((v) => `SFT vs GRPO vs SFT→GRPO: ${v}`);
  for (const name of names) await expect(rows.and(page.locator(`[data-name="${name}"]`))).toContainText(/1 steps?|step 1 of 1/);

  // Overlaid in the order they ran: the SFT loss from the first, the rewards of the two GRPO runs (none for SFT).
  const overlay = page.getByTestId('overlay');
  await expect(overlay.locator('.overlay-legend li')).toHaveText(names.map((n) => `■ ${n}`));
  await expect(page.getByTestId('overlay-sft-loss')).toBeVisible();
  const reward = page.getByTestId('overlay-reward');
  await expect(reward).toHaveAttribute('data-points', '1');
  await expect(reward.locator('.chart-value')).toHaveText([/^SFT vs GRPO vs SFT→GRPO: SFT —$/, /^SFT vs GRPO vs SFT→GRPO: SFT→GRPO \d(\.\d+)?$/, /^SFT vs GRPO vs SFT→GRPO: GRPO \d(\.\d+)?$/]);
  expect(pageErrors).toEqual([]);
});
