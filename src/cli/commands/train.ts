import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { openModel, type ModelSpec } from '../model.ts';
import { parseTrainConfig, type DataConfig, type TrainConfig } from '../train-config.ts';
import { readTemplateFile } from '../template-file.ts';
import { renderPrompt } from '../../toolcall/template.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import type { GpuDeviceLostError } from '../../gpu/device.ts';
import { instantiateModel } from '../../model/instantiate.ts';
import type { ModelSource } from '../../model/source.ts';
import { loadDatasetFile } from '../../data/node-files.ts';
import { generateSynthetic } from '../../data/synthetic.ts';
import type { Instance } from '../../data/instance.ts';
import { Rng } from '../../util/random.ts';
import { Policy } from '../../train/policy.ts';
import { GrpoTrainer } from '../../train/trainer.ts';
import { toolCallTask } from '../../train/toolcall-task.ts';
import type { TrainEvent } from '../../train/events.ts';
import { exportMerged, exportPeft, readCheckpointMeta, restoreCheckpoint, saveCheckpoint } from '../../train/checkpoint.ts';

const CONFIG_FILE = 'train-config.json';
const CHECKPOINT_FILE = 'checkpoint.safetensors';
/** Files copied next to a merged export so that `--model DIR` loads it like the original. */
export const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** Written beside the target and renamed over it: a crash leaves the old file or the new one, never half of one. */
function writeAtomically(path: string, bytes: Uint8Array | string): void {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

export async function instances(data: DataConfig, seed: number): Promise<{ train: Instance[]; heldout: Instance[]; notes: string[] }> {
  if ('synthetic' in data) {
    const { level, seed: dataSeed, train, heldout } = data.synthetic;
    return {
      train: generateSynthetic({ level, split: 'train', seed: dataSeed, count: train }),
      heldout: generateSynthetic({ level, split: 'heldout', seed: dataSeed, count: heldout }),
      notes: [],
    };
  }
  const notes: string[] = [];
  const load = async (path: string) => {
    const r = await loadDatasetFile(path, data.format);
    notes.push(...r.errors.slice(0, 5).map((e) => `${path}:${e.line}: skipped: ${e.message}`));
    if (r.errors.length > 5) notes.push(`${path}: ${r.errors.length} records skipped in all`);
    if (r.dropped > 0) notes.push(`${path}: ${r.dropped} instances dropped (calls to tools not offered)`);
    return r.records;
  };
  const all = await load(data.train);
  if (data.heldout) return { train: all, heldout: await load(data.heldout), notes };
  // The paper's 90/10 split, drawn with the run's seed so a resumed run sees the same split.
  const shuffled = new Rng(seed).shuffle([...all]);
  const n = Math.round(all.length * data.heldoutFraction);
  return { train: shuffled.slice(n), heldout: shuffled.slice(0, n), notes };
}

/** The settings that differ between two resolved configs (the step count may grow on resume). */
function changedSettings(before: TrainConfig, now: TrainConfig): string[] {
  const settings = (c: TrainConfig): [string, unknown][] => [
    ...Object.entries(c).filter(([k]) => k !== 'grpo' && k !== 'resume'),
    ...Object.entries(c.grpo).filter(([k]) => k !== 'steps').map(([k, v]): [string, unknown] => [`grpo.${k}`, v]),
  ];
  const old = new Map(settings(before));
  return settings(now).filter(([k, v]) => JSON.stringify(old.get(k)) !== JSON.stringify(v)).map(([k]) => k);
}

/** What PEFT's base_model_name_or_path should name: the Hub repo, or the folder the weights came from. */
function baseModelName(spec: ModelSpec, source: ModelSource): string {
  if (typeof spec === 'object') return spec.hub;
  return spec.startsWith('hub:') ? spec.slice(4) : source.where('');
}

async function readAll(source: ModelSource, file: string): Promise<Uint8Array | null> {
  const opened = await source.open(file);
  return opened ? new Uint8Array(await new Response(opened.stream).arrayBuffer()) : null;
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
    case 'eval':
      return `eval  step ${e.step}  mean reward ${fmt(e.meanReward)} on ${e.examples} held-out prompts`;
    case 'checkpoint':
      return `checkpoint  step ${e.step} → ${e.where} (${(e.bytes / 2 ** 20).toFixed(1)} MiB)`;
    case 'log':
      return `${e.level}: ${e.message}`;
    case 'done':
      return e.stopped ? `stopped at step ${e.step}` : `done: ${e.step} steps`;
    case 'sample':
      return null;
  }
}

export const train: CliCommand = {
  name: 'train',
  summary: 'GRPO on a tool-calling task from a JSON config; events, checkpoints and the export go to --out',
  usage: 'train --config FILE.json --out DIR [--resume] [--template FILE.json|FILE.txt]   (--resume alone reuses DIR/train-config.json)',
  async run(argv) {
    const args = parseCommandArgs(argv, { config: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' }, template: { type: 'string' } });
    const dir = resolve(requireString(args, 'out'));
    const checkpointPath = join(dir, CHECKPOINT_FILE);
    const configPath = typeof args.config === 'string' ? args.config : args.resume ? join(dir, CONFIG_FILE) : undefined;
    if (!configPath) throw new UsageError('missing required option --config');
    const parsed = parseTrainConfig(readFileSync(configPath, 'utf8'), configPath);
    const config = typeof args.template === 'string' ? { ...parsed, template: readTemplateFile(args.template) } : parsed;
    const resumeFrom = args.resume ? checkpointPath : config.resume;
    if (!resumeFrom && existsSync(checkpointPath)) {
      throw new UsageError(`${dir} already holds a run: pass --resume to continue it, or choose another --out`);
    }
    const resumeBytes = resumeFrom ? readFileSync(resumeFrom) : null;
    const resumeMeta = resumeBytes ? readCheckpointMeta(resumeBytes, resumeFrom!) : null;

    const { source, loaded, tokenizer } = await openModel(config.model);
    const g = config.grpo;
    // The prompt limit leaves room for the completion inside the model's positions.
    const maxPromptTokens = Math.min(config.maxPromptTokens, loaded.config.maxPositionEmbeddings - g.maxNewTokens);
    if (maxPromptTokens < 1) throw new Error(`grpo.maxNewTokens ${g.maxNewTokens} leaves no room for a prompt in ${loaded.config.maxPositionEmbeddings} positions`);
    const data = await instances(config.data, g.seed);
    const task = toolCallTask(tokenizer, data.train, data.heldout, { reward: config.reward, template: config.template, maxPromptTokens });

    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
    const events = openSync(join(dir, 'events.jsonl'), resumeBytes ? 'a' : 'w');
    const record = (e: TrainEvent) => writeSync(events, JSON.stringify(e) + '\n');
    const emit = (e: TrainEvent) => {
      record(e);
      const line = progressLine(e, g.steps);
      if (line) process.stderr.write(line + '\n');
    };
    const notes = [
      ...data.notes,
      `${task.train.length} training and ${task.heldout.length} held-out prompts (${task.dropped.train.length + task.dropped.heldout.length} longer than ${maxPromptTokens} tokens dropped)`,
    ];
    if (resumeMeta) {
      notes.push(`resuming from ${resumeFrom} at step ${resumeMeta.state.step}`);
      const changed = changedSettings(resumeMeta.config as TrainConfig, config);
      if (changed.length > 0) emit({ type: 'log', level: 'warn', message: `settings differ from the checkpoint's run: ${changed.join(', ')}` });
    }
    for (const message of notes) emit({ type: 'log', level: 'info', message });
    const first = task.train[0];
    process.stderr.write(`the prompt of ${first.id} (${first.promptIds.length} tokens), as the policy sees it:\n${renderPrompt(first.instance, config.template)}\n`);

    const rt = await createNodeRuntime();
    const maxPositions = maxPromptTokens + g.maxNewTokens;
    const policy = Policy.create(rt, loaded, { mode: config.mode, lora: config.lora ?? undefined, maxPositions, seed: g.seed });
    // KL against the starting weights: LoRA switches its adapters off, full fine-tuning needs a frozen copy.
    const reference = config.mode === 'full' && g.objective.beta !== 0 ? instantiateModel(rt, loaded, { maxPositions }) : null;
    const state = resumeBytes ? restoreCheckpoint(policy, resumeBytes, resumeFrom!).state : undefined;
    const trainer = new GrpoTrainer(rt, policy, task, g, emit, reference, state);

    let lost: GpuDeviceLostError | null = null;
    rt.onLost((e) => {
      lost = e;
      trainer.stop();
    });
    const onSignal = (signal: NodeJS.Signals) => {
      if (trainer.stopping) {
        process.stderr.write(`${signal} again: exiting without a checkpoint\n`);
        process.exit(130);
      }
      process.stderr.write(`${signal}: finishing step ${trainer.state.step + 1}, then writing a checkpoint (again to exit at once)\n`);
      trainer.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    let savedStep = state && resumeFrom === checkpointPath ? state.step : -1; // the step of DIR's checkpoint
    const checkpoint = async () => {
      if (rt.lost || trainer.state.step === savedStep) return;
      const bytes = await saveCheckpoint(policy, trainer.state, config);
      writeAtomically(checkpointPath, bytes);
      savedStep = trainer.state.step;
      emit({ type: 'checkpoint', step: savedStep, where: checkpointPath, bytes: bytes.length });
    };
    try {
      try {
        await trainer.run(checkpoint);
      } catch (e) {
        if (!lost) throw e;
      }
      if (lost) {
        const kept = savedStep >= 0 ? `the checkpoint of step ${savedStep} in ${checkpointPath} is intact: continue with --resume` : 'no checkpoint was written yet';
        const message = `${(lost as GpuDeviceLostError).message}\nstopped at step ${trainer.state.step}; ${kept}`;
        record({ type: 'log', level: 'error', message }); // main prints it
        throw new Error(message);
      }
      await checkpoint(); // checkpointEvery 0 saves nothing on the way
      if (trainer.stopping) {
        process.stderr.write(`continue with: npm run -s cli -- train --out ${dir} --resume\n`);
        return;
      }
      if (config.mode === 'lora') {
        const peft = await exportPeft(policy, baseModelName(config.model, source));
        writeAtomically(join(dir, 'adapter_model.safetensors'), peft.adapter);
        writeAtomically(join(dir, 'adapter_config.json'), peft.config);
      } else {
        writeAtomically(join(dir, 'model.safetensors'), await exportMerged(policy, loaded));
        for (const file of MODEL_FILES) {
          const bytes = await readAll(source, file);
          if (bytes) writeAtomically(join(dir, file), bytes);
        }
      }
      process.stderr.write(`exported the ${config.mode === 'lora' ? 'LoRA adapter (PEFT)' : 'merged model (Hugging Face layout)'} to ${dir}\n`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      closeSync(events);
      trainer.release();
      reference?.release();
      policy.release();
      if (!rt.lost) rt.destroy();
    }
  },
};
