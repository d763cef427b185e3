import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { openModel, type ModelSpec } from '../model.ts';
import { parseTrainConfig } from '../train-config.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import type { LoadedModel } from '../../model/source.ts';
import type { QwenTokenizer } from '../../model/tokenizer.ts';
import { Policy } from '../../train/policy.ts';
import { exportMerged, readCheckpointMeta, restoreCheckpoint } from '../../train/checkpoint.ts';
import { CHECKPOINT_FILE, MODEL_FILES, prepareRun } from '../../train/run.ts';
import { readSourceText } from '../../data/node-files.ts';
import { buildMessages, renderChatML, type ChatMessage } from '../../toolcall/template.ts';
import { ENGINES, exportBundle, type BundleInputs, type Engine } from '../../export/bundle.ts';
import type { Instance } from '../../data/instance.ts';

const REWARD_SOURCE = new URL('../../export/python/toolcall_reward.py', import.meta.url);
/** Prompts compared with the model's own chat template: enough to catch a template that differs. */
const TEMPLATE_CHECKS = 64;

/** Does the model's chat template give the studio's ChatML for these prompts? (Both engines apply it.) */
function chatTemplateNote(tokenizer: QwenTokenizer, prompts: ChatMessage[][]): string {
  const checked = prompts.slice(0, TEMPLATE_CHECKS);
  let same = 0;
  try {
    for (const m of checked) if (tokenizer.applyChatTemplate(m, { addGenerationPrompt: true }) === renderChatML(m)) same++;
  } catch (e) {
    return `the model has no usable chat template (${(e as Error).message}): give the engine one that renders ChatML`;
  }
  return same === checked.length
    ? `the model's chat template renders the first ${checked.length} prompts exactly as the studio does`
    : `WARNING: the model's chat template renders ${checked.length - same} of the first ${checked.length} prompts differently from the studio's ChatML`;
}

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
    const { loaded, tokenizer } = model;
    const g = config.grpo;
    // The prompts the run trains on: its split, without those over the length limit (the run's own assembly).
    const { task, notes: logs } = await prepareRun(config, model, readSourceText);
    const train: Instance[] = task.train.map((e) => e.instance);
    const heldout: Instance[] = task.heldout.map((e) => e.instance);
    const messages = (i: Instance) => buildMessages(i, config.template);
    const notes = [...logs.map((e) => e.message), chatTemplateNote(tokenizer, train.map(messages))];

    const folder = localFolder(config.model);
    const policy: BundleInputs['policy'] = checkpoint
      ? { folder: 'model', what: `the run's checkpoint ${checkpoint} merged into its base` }
      : folder
        ? { folder: 'model', what: `the run's starting model, ${loaded.source}` }
        : { hub: typeof config.model === 'object' ? config.model.hub : config.model.slice(4) };
    if (checkpoint && !folder) notes.push('the base comes from the Hub: only the merged weights are written, with no tokenizer files');
    const bf16 = [...loaded.tensors.values()].some((t) => t.dtype === 'BF16');
    const files = exportBundle({
      engine, config, configLabel: configPath, train, heldout, messages,
      rewardSource: readFileSync(REWARD_SOURCE, 'utf8'), policy, bf16, notes,
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
        writeFileSync(join(modelDir, 'model.safetensors'), await mergedCheckpoint(loaded, checkpoint, config.mode, config.lora ?? undefined, g.seed));
      } else {
        for (const file of weightFiles(folder!)) copy(file);
      }
      for (const file of MODEL_FILES) copy(file);
    }
    for (const n of notes) process.stderr.write(`export-run: ${n}\n`);
    process.stderr.write(`export-run: ${engine} hand-over of ${train.length} training and ${heldout.length} held-out prompts in ${out} (see README.md)\n`);
  },
};

