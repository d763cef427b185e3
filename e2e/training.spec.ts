import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';
import { openTrainingOnEmbedded } from './studio.ts';

// Two GRPO steps of the embedded tiny model on SwiftShader, stopped during the second: the plumbing (events,
// charts, sample cards, stop, OPFS checkpoint, download, export). Its completions are 8 tokens, too short to
// earn a reward. Stop is honoured between steps: the second step completes its update first.
test('a short GRPO run streams steps, charts and scored samples, stops, and downloads its checkpoint', async ({ page }, testInfo) => {
  test.setTimeout(420_000); // ~2 min here: forward + backward over ~350-token prompts on a CPU adapter
  const pageErrors = collectPageErrors(page);

  await openTrainingOnEmbedded(page);

  // The tiny preset is the default; shrink it to small steps on the shortest prompts. Three steps are
  // planned, and Stop comes during the second.
  await expect(page.getByTestId('preset-tiny')).toHaveClass(/active/);
  const set = async (testid: string, value: number) => page.getByTestId(testid).fill(String(value));
  await set('data-train-size', 64);
  await set('data-heldout-size', 24);
  await set('max-prompt-tokens', 360);
  await set('steps', 3);
  await set('prompts-per-step', 2);
  await set('group-size', 2);
  await set('max-new-tokens', 8);
  await set('micro-batch', 4);
  await set('eval-every', 2);
  await set('eval-size', 2);
  await set('checkpoint-every', 0); // saved only when the run stops
  // Benchmark accuracy during training: the first entry of each category of the synthetic held-out split, after step 2.
  await page.getByTestId('train-bench').selectOption('synthetic');
  await set('train-bench-every', 2);
  await set('train-bench-limit', 1);
  await set('train-bench-max-new-tokens', 4);

  // The template as one text: the preview renders the first training prompt with it; Default wording restores.
  const preview = page.getByTestId('template-preview');
  await preview.locator('summary').click();
  await expect(preview).toContainText('<tools>');
  await page.getByTestId('template-text').click();
  await page.getByTestId('template-text-input').fill('Tools: {tools}');
  await expect(preview).toContainText('<|im_start|>system\nTools: {"type": "function"');
  await page.getByTestId('template-text-input').fill('Tools: {tool}');
  await expect(page.getByTestId('template-error')).toContainText('"{tool}" is not a placeholder');
  await page.getByTestId('template-default').click();
  await expect(preview).toContainText('Example reply:');
  await page.getByTestId('train-start').click();

  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-status', 'running');
  await expect(page.getByTestId('train-progress')).toContainText('of 3');
  // What the step is doing, and a form that cannot change under it.
  await expect(page.getByTestId('train-phase')).toContainText(/compiling GPU pipelines|step 1: |preparing/);
  await expect(page.getByTestId('steps')).toBeDisabled();

  // Step 1: charts and the samples of the step, one group per prompt, each card scored.
  const reward = page.getByTestId('chart-reward');
  await expect(reward).toHaveAttribute('data-points', '1', { timeout: 240_000 });
  await expect(page.getByTestId('train-charts').locator('canvas')).toHaveCount(11);
  await expect(page.getByTestId('prompt-group')).toHaveCount(2);
  const cards = page.getByTestId('sample-card');
  await expect(cards).toHaveCount(4);
  for (const card of await cards.all()) {
    await expect(card.getByTestId('sample-reward')).toHaveText(/^[✓✗]|^0\.\d$/);
    await expect(card.getByTestId('sample-advantage')).toContainText(/A [+−±]\d\.\d\d/);
    expect(Number(await card.getAttribute('data-reward'))).toBeGreaterThanOrEqual(0);
  }
  await expect(page.getByTestId('prompt-group').first()).toContainText('expected');
  await expect(page.getByTestId('grpo-explainer')).toContainText('G = 2');

  // Stop during step 2: the step finishes and is evaluated (every 2), the run checkpoints and ends.
  await page.getByTestId('train-stop').click();
  await expect(run).toHaveAttribute('data-status', 'stopped', { timeout: 300_000 });
  await expect(page.getByTestId('train-progress')).toContainText('step 2 of 3');
  await expect(reward).toHaveAttribute('data-points', '2');
  await expect(page.getByTestId('train-console')).toContainText('held-out mean reward');
  await expect(page.getByTestId('train-console')).toContainText(/step 2: synthetic accuracy \d+\.\d% \(\d of \d\)/);
  await expect(page.getByTestId('chart-bench').locator('.chart-value').first()).toHaveText(/^all \d+%$/);
  await expect(page.getByTestId('train-console')).toContainText('checkpoint saved');
  await expect(page.getByTestId('steps')).toBeEnabled();
  await expect(page.getByTestId('run-row')).toHaveCount(1); // kept with its events
  await expect(page.getByTestId('checkpoint-info')).toContainText('step 2 of 3');
  await expect(page.getByTestId('train-resume')).toBeEnabled();
  await expect(page.getByTestId('step-slider')).toHaveAttribute('max', '1');

  // The checkpoint comes out of OPFS as a safetensors file with the run in its metadata.
  const download = page.waitForEvent('download');
  await page.getByTestId('download-checkpoint').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('tool-n1-checkpoint-step2.safetensors');
  const path = testInfo.outputPath('checkpoint.safetensors');
  await file.saveAs(path);
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  expect(JSON.parse(header.__metadata__.checkpoint).state.step).toBe(2);

  // Full fine-tuning exports merged weights with the model's config and tokenizer files.
  await page.getByTestId('export-model').click();
  await expect(page.getByTestId('export-files')).toContainText('model.safetensors');
  await expect(page.getByTestId('export-files')).toContainText('config.json');

  // Handed over to verl: one tar with the data, the reward module, the launch script and the merged policy.
  await page.getByTestId('handover-verl').click();
  const tarLink = page.getByTestId('export-files').getByText(/tool-n1-verl-step2\.tar/);
  await expect(tarLink).toBeVisible();
  const [tarDownload] = await Promise.all([page.waitForEvent('download'), tarLink.click()]);
  const tarPath = testInfo.outputPath('handover.tar');
  await tarDownload.saveAs(tarPath);
  const listing = execFileSync('tar', ['-tf', tarPath], { encoding: 'utf8' });
  for (const f of ['data/train.parquet', 'data/test.parquet', 'toolcall_reward.py', 'run_verl.sh', 'README.md', 'model/model.safetensors', 'model/config.json']) {
    expect(listing).toContain(`tool-n1-verl-step2/${f}`);
  }

  const shot = 'test-results/training.png';
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('training', { path: shot, contentType: 'image/png' });
  expect(pageErrors).toEqual([]);
});


// The default preset as a newcomer starts it, on the warm-started default: its groups carry signal, so a
// step shows a completion that earns reward 1 with a non-zero advantage, its think part and its tool call
// shown apart.
test('the default preset on the embedded model earns reward 1 with a non-zero advantage', async ({ page }) => {
  test.setTimeout(480_000); // step 1: compiling, 16 rollouts of ~420-token prompts, scoring (~1-3 min here)
  const pageErrors = collectPageErrors(page);
  await openTrainingOnEmbedded(page);
  await expect(page.getByTestId('preset-tiny')).toHaveClass(/active/);
  await page.getByTestId('train-start').click();

  const rewarded = page.locator('[data-testid="sample-card"][data-reward="1"]:not([data-advantage="0"])');
  await expect(rewarded.first()).toBeVisible({ timeout: 420_000 });
  await expect(rewarded.first().getByTestId('sample-reward')).toHaveText(/^✓/);
  await expect(rewarded.first().getByTestId('sample-advantage')).toContainText(/A \+\d\.\d\d/);
  await expect(rewarded.first().getByTestId('segment-think')).toBeVisible();
  await expect(rewarded.first().getByTestId('segment-tool_call')).toBeVisible();
  await page.getByTestId('train-stop').click();
  expect(pageErrors).toEqual([]);
});

// SFT as a method on the Training tab, then "Continue with GRPO" from its policy: one SFT step (loss, token
// accuracy, the held-out greedy reward) and one GRPO step, the SFT curves kept above the GRPO ones.
test('an SFT run, then Continue with GRPO from its policy, keeping the SFT curves', async ({ page }) => {
  test.setTimeout(600_000);
  const pageErrors = collectPageErrors(page);
  await openTrainingOnEmbedded(page);

  const fill = async (fields: Record<string, number>) => {
    for (const [testid, value] of Object.entries(fields)) await page.getByTestId(testid).fill(String(value));
  };
  await fill({ 'data-train-size': 64, 'data-heldout-size': 24, 'max-prompt-tokens': 360 });
  await page.getByTestId('method-sft').click();
  await fill({ 'sft-steps': 1, 'sft-batch-size': 2, 'sft-micro-batch': 2, 'sft-max-new-tokens': 4, 'sft-eval-every': 1, 'sft-eval-size': 1, 'sft-checkpoint-every': 0 });
  await page.getByTestId('train-start').click();

  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(page.getByTestId('chart-sft-loss')).toHaveAttribute('data-points', '1');
  await expect(page.getByTestId('train-sft-charts').locator('canvas')).toHaveCount(4);
  await expect(page.getByTestId('train-last-step')).toContainText(/loss \d+\.\d+ · token accuracy \d+%/);
  await expect(page.getByTestId('train-console')).toContainText('held-out mean reward');
  await expect(page.getByTestId('checkpoint-info')).toContainText('step 1 of 1');

  // GRPO from the SFT policy, with the form's GRPO settings.
  await page.getByTestId('method-grpo').click();
  await fill({ steps: 1, 'prompts-per-step': 1, 'group-size': 2, 'max-new-tokens': 4, 'micro-batch': 2, 'eval-every': 0, 'checkpoint-every': 0 });
  await page.getByTestId('train-continue-grpo').click();
  await expect(run).toHaveAttribute('data-status', 'running');
  await expect(run).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '1');
  await expect(page.getByTestId('chart-sft-loss')).toHaveAttribute('data-points', '1');
  await expect(page.getByTestId('prompt-group')).toHaveCount(1);
  await expect(page.getByTestId('train-run')).toContainText('GRPO');
  expect(pageErrors).toEqual([]);
});
