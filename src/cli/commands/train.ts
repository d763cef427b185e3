import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { openStartModel } from '../model.ts';
import { parseTrainConfig } from '../train-config.ts';
import { readTemplateFile } from '../template-file.ts';
import { renderPrompt } from '../../toolcall/template.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import { readSourceText } from '../../data/node-files.ts';
import { benchFiles } from './eval.ts';
import type { TrainEvent } from '../../train/events.ts';
import { StepThrough } from '../../train/step-through.ts';
import { GrpoTrainer } from '../../train/trainer.ts';
import { CHECKPOINT_FILE, Run, changedSettings, methodConfig, prepareRun, readResume, type RunStorage } from '../../train/run.ts';

const CONFIG_FILE = 'train-config.json';

/** Written beside the target and renamed over it: a crash leaves the old file or the new one, never half of one. */
function writeAtomically(path: string, bytes: Uint8Array | string): void {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

/** The run's files in the --out folder. */
export function folderStorage(dir: string): RunStorage {
  return {
    where: (name) => join(dir, name),
    read: async (name) => (existsSync(join(dir, name)) ? new Uint8Array(readFileSync(join(dir, name))) : null),
    write: async (name, data) => writeAtomically(join(dir, name), data),
  };
}

/** Fixed digits, or exponent notation for values too small to show that way (a gradient norm of 2e-8). */
const fmt = (x: number, digits = 3) => (!Number.isFinite(x) ? String(x) : x !== 0 && Math.abs(x) < 10 ** -digits ? x.toExponential(2) : x.toFixed(digits));

function progressLine(e: TrainEvent, steps: number): string | null {
  switch (e.type) {
    case 'step':
      return (
        `step ${e.step}/${steps}  reward ${fmt(e.rewardMean)} ± ${fmt(e.rewardStd)}  format ${fmt(e.formatRate, 2)}  ` +
        `loss ${e.loss.toExponential(3)}  kl ${e.kl.toExponential(2)}  |g| ${fmt(e.gradNorm)}  len ${e.completionLength.toFixed(1)}  ` +
        `${e.tokensPerSec.toFixed(1)} tok/s  ${((e.rolloutMs + e.scoringMs + e.updateMs) / 1000).toFixed(1)} s`
      );
    case 'sft-step':
      return (
        `step ${e.step}/${steps}  loss ${fmt(e.loss, 4)}  token accuracy ${fmt(e.tokenAccuracy)}  |g| ${fmt(e.gradNorm)}  lr ${e.lr.toExponential(2)}  ` +
        `${e.tokens} tokens  ${e.tokensPerSec.toFixed(1)} tok/s  ${(e.updateMs / 1000).toFixed(1)} s`
      );
    case 'eval':
      return `eval  step ${e.step}  mean reward ${fmt(e.meanReward)} on ${e.examples} held-out prompts`;
    case 'bench':
      return `bench  step ${e.step}  ${e.bench} accuracy ${fmt(e.accuracy)} (${e.correct} of ${e.total}: ${e.categories.map((c) => `${c.category} ${c.correct}/${c.total}`).join(', ')})`;
    case 'checkpoint':
      return `checkpoint  step ${e.step} → ${e.where} (${(e.bytes / 2 ** 20).toFixed(1)} MiB)`;
    case 'log':
      return `${e.level}: ${e.message}`;
    case 'done':
      return e.stopped ? `stopped at step ${e.step}` : `done: ${e.step} steps`;
    case 'sample':
    case 'trace':
    case 'progress':
      return null;
  }
}

export const train: CliCommand = {
  name: 'train',
  summary: 'GRPO or SFT on a tool-calling task from a JSON config; events, checkpoints and the export go to --out',
  usage: 'train --config FILE.json --out DIR [--resume] [--template FILE.json|FILE.txt] [--step-through]   (--step-through: the phases of each GRPO step as trace events in events.jsonl; --resume alone reuses DIR/train-config.json)',
  async run(argv) {
    const args = parseCommandArgs(argv, { config: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' }, template: { type: 'string' }, 'step-through': { type: 'boolean' } });
    const dir = resolve(requireString(args, 'out'));
    const storage = folderStorage(dir);
    const checkpointPath = storage.where(CHECKPOINT_FILE);
    const configPath = typeof args.config === 'string' ? args.config : args.resume ? join(dir, CONFIG_FILE) : undefined;
    if (!configPath) throw new UsageError('missing required option --config');
    const parsed = parseTrainConfig(readFileSync(configPath, 'utf8'), configPath);
    const config = typeof args.template === 'string' ? { ...parsed, template: readTemplateFile(args.template) } : parsed;
    if (args['step-through'] && config.method !== 'grpo') throw new UsageError(`--step-through traces GRPO steps; this config's method is ${config.method}`);
    const resumeFrom = args.resume ? checkpointPath : config.resume;
    if (!resumeFrom && existsSync(checkpointPath)) {
      throw new UsageError(`${dir} already holds a run: pass --resume to continue it, or choose another --out`);
    }
    const resume = resumeFrom ? readResume(readFileSync(resumeFrom), resumeFrom) : undefined;
    const prepared = await prepareRun(config, await openStartModel(config.model), readSourceText, benchFiles('benchmark.data'));

    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
    const events = openSync(join(dir, 'events.jsonl'), resume ? 'a' : 'w');
    const record = (e: TrainEvent) => writeSync(events, JSON.stringify(e) + '\n');
    const emit = (e: TrainEvent) => {
      if (e.type === 'progress') return; // a live display's; the log keeps what happened
      if (e.type === 'trace' && e.phase === 'rollout' && !e.done) return; // streamed partial texts: the complete ones follow
      record(e);
      const line = progressLine(e, methodConfig(config).steps);
      if (line) process.stderr.write(line + '\n');
    };
    for (const e of prepared.notes) emit(e);
    const first = prepared.task.train[0];
    process.stderr.write(`the prompt of ${first.id} (${first.promptIds.length} tokens), as the policy sees it:\n${renderPrompt(first.instance, config.template)}\n`);
    if (resume) {
      emit({ type: 'log', level: 'info', message: `resuming from ${resume.where} at step ${resume.meta.state.step}` });
      const changed = changedSettings(resume.config, config);
      if (changed.length > 0) emit({ type: 'log', level: 'warn', message: `settings differ from the checkpoint's run: ${changed.join(', ')}` });
    }

    const rt = await createNodeRuntime();
    let run: Run | null = null;
    const onSignal = (signal: NodeJS.Signals) => {
      if (run?.trainer.stopping) {
        process.stderr.write(`${signal} again: exiting without a checkpoint\n`);
        process.exit(130);
      }
      process.stderr.write(`${signal}: finishing step ${(run?.trainer.state.step ?? 0) + 1}, then writing a checkpoint (again to exit at once)\n`);
      run?.trainer.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      // The step of DIR's own checkpoint, when resuming from it: not written again.
      run = new Run(rt, prepared, emit, resume, resume && resumeFrom === checkpointPath ? resume.meta.state.step : -1);
      if (args['step-through'] && run.trainer instanceof GrpoTrainer) {
        // Traced without pauses: the phases go to events.jsonl, nobody waits for Next.
        run.trainer.stepThrough = new StepThrough(false);
        run.trainer.stepThrough.enable(true);
      }
      const result = await run.train(storage, emit);
      // The event log (and stderr) already hold the cause and the intact checkpoint; the error says what to do.
      if (result.lost) {
        throw new Error(`training stopped by the device loss at step ${result.step}${result.savedStep >= 0 ? `: continue with --out ${dir} --resume` : '; no checkpoint was written yet'}`);
      }
      if (result.stopped) {
        process.stderr.write(`continue with: npm run -s cli -- train --out ${dir} --resume\n`);
        return;
      }
      for (const file of await run.exportFiles()) await storage.write(file.name, file.data);
      process.stderr.write(`exported the ${config.mode === 'lora' ? 'LoRA adapter (PEFT)' : 'merged model (Hugging Face layout)'} to ${dir}\n`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      closeSync(events);
      run?.release();
      if (!rt.lost) rt.destroy();
    }
  },
};
