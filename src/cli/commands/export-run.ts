import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { openModel, type ModelSpec } from '../model.ts';
import { parseTrainConfig } from '../train-config.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import type { LoadedModel } from '../../model/source.ts';
import { Policy } from '../../train/policy.ts';
import { exportMerged, readCheckpointMeta, restoreCheckpoint } from '../../train/checkpoint.ts';
import { CHECKPOINT_FILE, MODEL_FILES, prepareRun } from '../../train/run.ts';
import { readSourceText } from '../../data/node-files.ts';
import { ENGINES, type BundleInputs, type Engine } from '../../export/bundle.ts';
import { handover } from '../../export/handover.ts';

const REWARD_SOURCE = new URL('../../export/python/toolcall_reward.py', import.meta.url);
/** The folder a model spec reads from on disk, or null for a Hub repo. */
function localFolder(spec: ModelSpec): string | null {
  if (typeof spec === 'object' || spec.startsWith('hub:')) return null;
  return spec === 'embedded' ? new URL('../../../public/models/tiny/', import.meta.url).pathname : spec;
}

/** The weights files of a folder as they are: model.safetensors, or the index and its shards. */
function weightFiles(folder: string): string[] {
  if (existsSync(join(folder, 'model.safetensors'))) return ['model.safetensors'];
  const index = JSON.parse(readFileSync(join(folder, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  return ['model.safetensors.index.json', ...new Set(Object.values(index.weight_map))];
}

/** The trained policy merged into the base's dtype (full fine-tuning: the trained weights). */
async function mergedCheckpoint(loaded: LoadedModel, checkpoint: string, mode: 'full' | 'lora', lora: Policy['settings']['lora'], seed: number): Promise<Uint8Array> {
  const rt = await createNodeRuntime();
  try {
    const policy = Policy.create(rt, loaded, { mode, lora, maxPositions: Math.min(64, loaded.config.maxPositionEmbeddings), seed });
    try {
      restoreCheckpoint(policy, readFileSync(checkpoint), checkpoint);
      return await exportMerged(policy, loaded);
    } finally {
      policy.release();
    }
  } finally {
    rt.destroy();
  }
}

export const exportRun: CliCommand = {
  name: 'export-run',
  summary: 'hand a training run over to verl or TRL: data, reward module, launch script, settings README, starting weights',
  usage: 'export-run --config FILE.json --out DIR --for verl|trl [--checkpoint FILE.safetensors]   (a run folder\'s checkpoint is used by default)',
  async run(argv) {
    const args = parseCommandArgs(argv, { config: { type: 'string' }, out: { type: 'string' }, for: { type: 'string' }, checkpoint: { type: 'string' } });
    const engine = requireString(args, 'for') as Engine;
    if (!ENGINES.includes(engine)) throw new UsageError(`--for must be one of ${ENGINES.join(', ')}`);
    const configPath = requireString(args, 'config');
    const out = resolve(requireString(args, 'out'));
    if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`${out} is not empty: choose a new --out`);
    const config = parseTrainConfig(readFileSync(configPath, 'utf8'), configPath);
    const found = join(dirname(resolve(configPath)), CHECKPOINT_FILE);
    const checkpoint = typeof args.checkpoint === 'string' ? args.checkpoint : existsSync(found) ? found : null;
    if (checkpoint) readCheckpointMeta(readFileSync(checkpoint), checkpoint); // a bad one fails before anything is written

    const model = await openModel(config.model);
    const { loaded } = model;
    // The prompts the run trains on: its split, without those over the length limit (the run's own assembly).
    const prepared = await prepareRun(config, model, readSourceText);
    const folder = localFolder(config.model);
    const policy: BundleInputs['policy'] = checkpoint
      ? { folder: 'model', what: `the run's checkpoint ${checkpoint} merged into its base` }
      : folder
        ? { folder: 'model', what: `the run's starting model, ${loaded.source}` }
        : { hub: typeof config.model === 'object' ? config.model.hub : config.model.slice(4) };
    if (checkpoint && !folder) prepared.notes.push({ type: 'log', level: 'warn', message: 'the base comes from the Hub: only the merged weights are written, with no tokenizer files' });
    const { files, notes, trainPrompts, heldoutPrompts } = handover(engine, prepared, {
      configLabel: configPath, rewardSource: readFileSync(REWARD_SOURCE, 'utf8'), policy,
    });
    for (const f of files) {
      const path = join(out, f.name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.data);
      if (f.executable) chmodSync(path, 0o755);
    }
    if ('folder' in policy) {
      const modelDir = join(out, policy.folder);
      mkdirSync(modelDir, { recursive: true });
      const copy = (file: string) => folder && existsSync(join(folder, file)) && copyFileSync(join(folder, file), join(modelDir, file));
      if (checkpoint) {
        writeFileSync(join(modelDir, 'model.safetensors'), await mergedCheckpoint(loaded, checkpoint, config.mode, config.lora ?? undefined, config.grpo.seed));
      } else {
        for (const file of weightFiles(folder!)) copy(file);
      }
      for (const file of MODEL_FILES) copy(file);
    }
    for (const n of notes) process.stderr.write(`export-run: ${n}\n`);
    process.stderr.write(`export-run: ${engine} hand-over of ${trainPrompts} training and ${heldoutPrompts} held-out prompts in ${out} (see README.md)\n`);
  },
};

