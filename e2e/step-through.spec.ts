import { expect, test } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';
import { openTrainingOnEmbedded } from './studio.ts';

// Step-through mode on the embedded default: one GRPO step, paused after each phase until Next. Whatever
// the model writes (its rewards are not assumed), every phase shows: the rollouts, their scores, the
// advantages' formula with its numbers, and the update's per-token log-prob change as colour.
test('step through one GRPO step phase by phase', async ({ page }, testInfo) => {
  test.setTimeout(420_000); // one small step on a CPU adapter, as in training.spec.ts
  const pageErrors = collectPageErrors(page);

  await openTrainingOnEmbedded(page);
  const fields = {
    'data-train-size': 64, 'data-heldout-size': 24, 'max-prompt-tokens': 360, steps: 1, 'prompts-per-step': 2, 'group-size': 2,
    'max-new-tokens': 8, 'micro-batch': 4, 'eval-every': 0, 'checkpoint-every': 0,
  };
  for (const [testid, value] of Object.entries(fields)) await page.getByTestId(testid).fill(String(value));
  await page.getByTestId('train-step-through').click();

  const card = page.getByTestId('step-through');
  const next = page.getByTestId('step-next');
  // 1: the rollouts of the group on view, then the run waits.
  await expect(card).toHaveAttribute('data-waiting', 'true', { timeout: 300_000 });
  await expect(card).toHaveAttribute('data-phase', 'rollout');
  await expect(page.getByTestId('step-phase-rollout')).toHaveAttribute('data-done', 'true');
  await expect(page.getByTestId('step-rollout')).toHaveCount(2);
  await expect(page.getByTestId('step-group')).toHaveCount(2);
  await expect(page.getByTestId('step-phase-scores')).toHaveCount(0);
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-status', 'running');
  await next.click();

  // 2: each scored, with its checks.
  await expect(card).toHaveAttribute('data-phase', 'scores');
  await expect(page.getByTestId('step-score')).toHaveCount(2);
  await expect(page.getByTestId('step-score').first()).toContainText('r = ');
  await expect(page.getByTestId('step-score').first()).toContainText('think');
  await next.click();

  // 3: the group's mean, std and advantages, the formula filled in.
  await expect(card).toHaveAttribute('data-phase', 'advantages');
  const formula = page.getByTestId('step-formula');
  await expect(formula).toContainText(/mean = \(.+\) \/ 2 = .+ \/ 2 = \d\.\d{3}/);
  await expect(formula).toContainText(/std = √\(Σ \(r − mean\)² \/ \(G − 1\)\) = √\(\d\.\d{3} \/ 1\) = \d\.\d{3}/);
  await expect(formula.getByTestId('step-advantage').or(formula.getByTestId('step-all-equal')).first()).toBeVisible();
  await next.click();

  // 4: the update, token by token, coloured by the change in log-probability; then the step's metrics.
  await expect(card).toHaveAttribute('data-phase', 'update', { timeout: 240_000 });
  const tokens = page.getByTestId('step-token');
  expect(await tokens.count()).toBeGreaterThan(0);
  for (const delta of await tokens.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-delta'))))) expect(Number.isFinite(delta)).toBe(true);
  await expect(page.getByTestId('step-completion')).toHaveCount(2);
  await expect(page.getByTestId('step-ratio').first()).toContainText(/ratio 1\.000–1\.000 · 0 of \d+ clipped|not in the update/);
  await expect(page.getByTestId('step-mean-change')).toContainText('rewarded completions');
  await expect(page.getByTestId('step-mean-change-all')).toContainText('unrewarded');
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '1');
  const shot = 'test-results/step-through.png';
  await page.getByTestId('step-through').screenshot({ path: shot });
  await testInfo.attach('step-through', { path: shot, contentType: 'image/png' });
  await page.getByTestId('step-colour-ratio').click();
  await expect(page.getByTestId('step-phase-update')).toContainText('the ratio of each token');
  // Another group on view: its own rollouts and update.
  await page.getByTestId('step-group').nth(1).click();
  await expect(page.getByTestId('step-completion')).toHaveCount(2);

  // 5: the last step, so Next finishes the run.
  await expect(next).toHaveText('Finish the run');
  await next.click();
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  expect(pageErrors).toEqual([]);
});
