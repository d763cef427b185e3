// One training run, assembled the same way for the studio's Worker and the CLI: the data and its seeded
// held-out split, the prompt-length clamp, SFT targets, policy and reference model, the method's trainer, resume from a checkpoint, the run
// loop with its checkpoints and device-loss report, and the export. What differs between the two is only
// where files go (a RunStorage: OPFS in the browser, atomic files in Node) and how datasets are read.
import { parseDataset } from '../data/datasets.ts';
import type { EvalItem } from '../eval/runner.ts';
import { isUrl, limitPerCategory, openSuite, urlFiles, type EvalSuite, type FileReader } from '../eval/suites.ts';
import { renderPrompt } from '../toolcall/template.ts';
import type { Instance } from '../data/instance.ts';
import { generateSynthetic } from '../data/synthetic.ts';
import type { GpuDeviceLostError } from '../gpu/device.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { instantiateModel } from '../model/instantiate.ts';
import type { Qwen2Model } from '../model/model.ts';
import type { LoadedModel, ModelSource } from '../model/source.ts';
import type { QwenTokenizer } from '../model/tokenizer.ts';
import { Rng } from '../util/random.ts';
import { exportMerged, exportPeft, readCheckpointMeta, restoreCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import { methodConfig, resolveTrainConfig, type DataConfig, type ModelSpec, type TrainConfig } from './config.ts';
export { methodConfig };
import type { TrainEvent } from './events.ts';
import { Policy, type LoraSettings } from './policy.ts';
import { loraGeometry } from '../model/lora.ts';
import { toolCallTask, type ToolCallExample, type ToolCallTask } from './toolcall-task.ts';
import { GrpoTrainer } from './trainer.ts';
import type { TrainingLoop } from './loop.ts';
import { SftTrainer, type SftTarget } from './sft-trainer.ts';
import { END_OF_TURN, sftCompletionError, sftTarget } from '../data/sft.ts';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
/** Files copied next to a merged export so that it loads like the original model folder. */
export const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** Where a run keeps its files. `write` replaces a file whole or not at all. */
export interface RunStorage {
  /** the file's location, for messages */
  where(name: string): string;
  read(name: string): Promise<Uint8Array | null>;
  write(name: string, data: Uint8Array | string): Promise<void>;
}

/** The model a run starts from, opened by the caller. */
export interface RunModel {
  source: ModelSource;
  loaded: LoadedModel;
  tokenizer: QwenTokenizer;
  /** the same weights already on the GPU (the studio's Playground model): reused as the frozen KL reference */
  frozen?: Qwen2Model;
}

/** A dataset path → its text (Node: a file or URL; the studio: the uploaded file). */
export type ReadText = (path: string) => Promise<string>;

/** A training prompt with its SFT target. */
export type SftToolCallExample = ToolCallExample & SftTarget;

/** A run ready for the GPU: validated config, prompts, sizes. Building it touches no GPU. */
export interface PreparedRun {
  config: TrainConfig;
  model: RunModel;
  task: ToolCallTask;
  /** SFT: the training prompts with their targets (null for GRPO) */
  sftTrain: SftToolCallExample[] | null;
  /** longest prompt + completion: sizes the policy's position tables */
  maxPositions: number;
  /** what the data loading had to say (skipped records, dropped prompts) */
  notes: Extract<TrainEvent, { type: 'log' }>[];
  /** the config's benchmark subset, read and limited (null: none) */
  benchItems: EvalItem[] | null;
}

/** Benchmark files by the config's `benchmark.data` (the CLI: a folder or URL; the studio: picked files or a URL). */
export type BenchFiles = (data: string) => FileReader;


/** Validates the config against the model and reads the data; every error comes before any GPU work. */
export async function prepareRun(raw: TrainConfig, model: RunModel, readText: ReadText, benchFiles: BenchFiles = urlOnly): Promise<PreparedRun> {
  const config = resolveTrainConfig(raw);
  const mc = model.loaded.config;
  if (config.lora) loraFits(config.lora, mc);
  const { maxNewTokens, seed } = methodConfig(config);
  // The prompt limit leaves room for the completion inside the model's positions.
  const maxPromptTokens = Math.min(config.maxPromptTokens, mc.maxPositionEmbeddings - maxNewTokens);
  if (maxPromptTokens < 1) throw new Error(`${config.method}.maxNewTokens ${maxNewTokens} leaves no room for a prompt in the model's ${mc.maxPositionEmbeddings} positions`);
  const notes: PreparedRun['notes'] = [];
  const note = (level: 'info' | 'warn', message: string) => notes.push({ type: 'log', level, message });
  const { train, heldout } = await loadInstances(config.data, seed, readText, note);
  const task = toolCallTask(model.tokenizer, train, heldout, { reward: config.reward, template: config.template, maxPromptTokens });
  const dropped = task.dropped.train.length + task.dropped.heldout.length;
  note(dropped > 0 ? 'warn' : 'info', `${task.train.length} training and ${task.heldout.length} held-out prompts (${dropped} longer than ${maxPromptTokens} tokens dropped)`);
  const sftTrain = config.method === 'sft' ? sftExamples(config, task.train, model.tokenizer, mc.maxPositionEmbeddings, note) : null;
  const longest = [...task.train, ...task.heldout].reduce((n, e) => Math.max(n, e.promptIds.length), 0);
  const longestTarget = (sftTrain ?? []).reduce((n, e) => Math.max(n, e.promptIds.length + e.targetIds.length), 0);
  const bench = config.benchmark ? await benchmarkItems(config, benchFiles, readText, note) : null;
  // The benchmark's prompts get room too, up to the model's positions (longer ones count as wrong, as in eval).
  const longestBench = (bench ?? []).reduce((n, item) => (item.conversation ? Math.max(n, model.tokenizer.encode(renderPrompt(item.conversation, config.template)).length) : n), 0);
  const benchPositions = bench ? Math.min(mc.maxPositionEmbeddings, longestBench + config.benchmark!.maxNewTokens) : 0;
  return { config, model, task, sftTrain, maxPositions: Math.max(longest + maxNewTokens, longestTarget, benchPositions), notes, benchItems: bench };
}

const urlOnly: BenchFiles = (data) => {
  if (!isUrl(data)) throw new Error(`benchmark.data ${data}: only a base URL can be read here`);
  return urlFiles(data);
};

/** The benchmark subset of the config: its suite as `eval` opens it, the first `limit` entries of each category. */
async function benchmarkItems(config: TrainConfig, files: BenchFiles, readText: ReadText, note: (level: 'info' | 'warn', message: string) => void): Promise<EvalItem[]> {
  const b = config.benchmark!;
  let suite: EvalSuite;
  try {
    suite = await openSuite(b.bench, b.data, b.categories, files, readText);
  } catch (e) {
    throw new Error(`benchmark: ${(e as Error).message}`);
  }
  for (const e of suite.errors.slice(0, 5)) note('warn', `benchmark: unreadable ${e}`);
  const items = limitPerCategory(suite.items, b.limit);
  if (items.length === 0) throw new Error(`benchmark: ${b.bench} ${b.data} holds no entries${b.categories ? ` in ${b.categories.join(', ')}` : ''}`);
  const categories = [...new Set(items.map((i) => i.category))];
  note('info', `benchmark every ${b.every} steps: ${items.length} ${b.bench} entries (${categories.join(', ')}), greedy, ≤ ${b.maxNewTokens} new tokens`);
  return items;
}

/**
 * The SFT targets of the training prompts: a record's own completion (checked against the thinking template
 * for the reasoning mode) or one rendered from its calls (src/data/sft.ts). A record of the instance format
 * without a completion, or with one that is not a valid answer, stops the run naming its file and line.
 */
function sftExamples(
  config: TrainConfig, train: ToolCallExample[], tokenizer: QwenTokenizer, positions: number, note: (level: 'info' | 'warn', message: string) => void,
): SftToolCallExample[] {
  const { reasoning } = config.sft;
  const file = 'synthetic' in config.data ? null : config.data;
  const where = (e: ToolCallExample) => (file ? `${file.train}:${e.instance.line ?? e.id}` : `synthetic instance ${e.id}`);
  let tooLong = 0;
  const out = train.flatMap((e) => {
    const { completion } = e.instance;
    let target: string;
    if (completion !== undefined) {
      const error = sftCompletionError(completion, reasoning);
      if (error) throw new Error(`${where(e)}: the completion is not a valid SFT target for sft.reasoning "${reasoning}": ${error}`);
      target = completion.endsWith(END_OF_TURN) ? completion : completion + END_OF_TURN;
    } else if (file?.format === 'instance') {
      throw new Error(`${where(e)}: an SFT record needs a "completion" (the answer to teach), or train on xlam/toolace/synthetic data, whose targets are rendered from their calls`);
    } else target = sftTarget(e.instance, reasoning);
    const targetIds = tokenizer.encode(target);
    if (e.promptIds.length + targetIds.length > positions) {
      tooLong++;
      return [];
    }
    return [{ ...e, targetIds }];
  });
  if (tooLong > 0) note('warn', `${tooLong} training prompts dropped: prompt and target together exceed the model's ${positions} positions`);
  if (out.length === 0) throw new Error('no training prompt has an SFT target that fits the model');
  return out;
}

/** A LoRA rank above a layer's width would train for minutes on a meaningless factorisation: refuse it. */
function loraFits(lora: LoraSettings, c: LoadedModel['config']): void {
  const geometry = loraGeometry(c);
  for (const t of lora.targets) {
    const { inWidth, outRows } = geometry[t];
    const most = Math.min(inWidth, outRows);
    if (lora.rank > most) throw new Error(`lora.rank ${lora.rank} is above what the ${t} projection (${inWidth} × ${outRows}) can hold: at most ${most}`);
  }
}

/** The run's instances; a file without a held-out file is split by a shuffle with the run's seed (the paper's 90/10). */
async function loadInstances(
  data: DataConfig, seed: number, readText: ReadText, note: (level: 'info' | 'warn', message: string) => void,
): Promise<{ train: Instance[]; heldout: Instance[] }> {
  if ('synthetic' in data) {
    const { level, seed: dataSeed, train, heldout } = data.synthetic;
    return {
      train: generateSynthetic({ level, split: 'train', seed: dataSeed, count: train }),
      heldout: generateSynthetic({ level, split: 'heldout', seed: dataSeed, count: heldout }),
    };
  }
  const load = async (path: string) => {
    let text: string;
    try {
      text = await readText(path);
    } catch (e) {
      throw new Error(`${path}: cannot be read (${(e as Error).message})`);
    }
    const r = parseDataset(text, data.format);
    for (const e of r.errors.slice(0, 5)) note('warn', `${path}:${e.line}: skipped: ${e.message}`);
    if (r.errors.length > 5) note('warn', `${path}: ${r.errors.length} records skipped in all`);
    if (r.dropped > 0) note('info', `${path}: ${r.dropped} instances dropped (calls to tools not offered)`);
    if (r.records.length === 0) {
      const first = r.errors[0] ? ` (line ${r.errors[0].line}: ${r.errors[0].message})` : '';
      throw new Error(`${path}: no ${data.format} records could be read${first}`);
    }
    return r.records;
  };
  const all = await load(data.train);
  if (data.heldout) return { train: all, heldout: await load(data.heldout) };
  const shuffled = new Rng(seed).shuffle([...all]);
  const n = Math.round(all.length * data.heldoutFraction);
  return { train: shuffled.slice(n), heldout: shuffled.slice(0, n) };
}

/** A checkpoint to continue from, checked before the GPU is touched. */
export interface Resume {
  bytes: Uint8Array;
  where: string;
  meta: CheckpointMeta;
  /** the run's config as the checkpoint recorded it */
  config: TrainConfig;
}

export function readResume(bytes: Uint8Array, where: string): Resume {
  const meta = readCheckpointMeta(bytes, where);
  let config: TrainConfig;
  try {
    config = resolveTrainConfig(meta.config);
  } catch (e) {
    throw new Error(`${where}: the run's config in its metadata is not valid: ${(e as Error).message}`);
  }
  return { bytes, where, meta, config };
}

/** The settings that differ between two resolved configs (the step count may grow on resume). */
export function changedSettings(before: TrainConfig, now: TrainConfig): string[] {
  const settings = (c: TrainConfig): [string, unknown][] => [
    ...Object.entries(c).filter(([k]) => k !== 'grpo' && k !== 'sft' && k !== 'resume'),
    ...Object.entries(methodConfig(c)).filter(([k]) => k !== 'steps').map(([k, v]): [string, unknown] => [`${c.method}.${k}`, v]),
  ];
  const old = new Map(settings(before));
  return settings(now).filter(([k, v]) => JSON.stringify(old.get(k)) !== JSON.stringify(v)).map(([k]) => k);
}

export const sameModel = (a: ModelSpec, b: ModelSpec): boolean => JSON.stringify(a) === JSON.stringify(b);

/** How a run ended. */
export interface RunResult {
  step: number;
  stopped: boolean;
  /** the step of the checkpoint in the run's storage, -1 when none */
  savedStep: number;
  /** set when the GPU device was lost: the run stopped, its last checkpoint is intact */
  lost: GpuDeviceLostError | null;
}

/** A run on the GPU: the policy, its reference and the trainer over the prepared task. */
export class Run {
  readonly policy: Policy;
  readonly trainer: TrainingLoop<ToolCallExample>;
  /** a frozen copy of the starting weights this run made (full fine-tuning with β ≠ 0) */
  private ownReference: Qwen2Model | null = null;
  /** the step of the checkpoint in storage: nothing to write again */
  private savedStep: number;

  constructor(readonly rt: GpuRuntime, readonly prepared: PreparedRun, emit: (e: TrainEvent) => void, resume?: Resume, savedStep = -1) {
    const { config, model, maxPositions, sftTrain } = prepared;
    const g = config.grpo;
    this.policy = Policy.create(rt, model.loaded, { mode: config.mode, lora: config.lora ?? undefined, maxPositions, seed: methodConfig(config).seed });
    this.savedStep = savedStep;
    try {
      const state = resume ? restoreCheckpoint(this.policy, resume.bytes, resume.where).state : undefined;
      if (sftTrain) {
        this.trainer = new SftTrainer(rt, this.policy, { ...prepared.task, train: sftTrain }, config.sft, emit, state);
      } else {
        // KL against the starting weights: LoRA switches its adapters off, full fine-tuning needs a frozen copy.
        let reference: Qwen2Model | null = null;
        if (config.mode === 'full' && g.objective.beta !== 0) {
          reference = model.frozen && model.frozen.maxPositions >= maxPositions ? model.frozen : (this.ownReference = instantiateModel(rt, model.loaded, { maxPositions }));
        }
        this.trainer = new GrpoTrainer(rt, this.policy, prepared.task, g, emit, reference, state);
      }
      const b = config.benchmark;
      if (b && prepared.benchItems) {
        this.trainer.benchmark = { bench: b.bench, items: prepared.benchItems, tokenizer: model.tokenizer, template: config.template, every: b.every, maxNewTokens: b.maxNewTokens };
      }
    } catch (e) {
      this.release();
      throw e;
    }
  }

  get config(): TrainConfig {
    return this.prepared.config;
  }

  /**
   * Trains to the configured step count or a stop, checkpointing into `storage` as configured, on stop and
   * at the end. A checkpoint that cannot be written is reported and training goes on. A lost device stops
   * the run and is reported in the result, the last checkpoint left intact.
   */
  async train(storage: RunStorage, emit: (e: TrainEvent) => void): Promise<RunResult> {
    const { rt, trainer } = this;
    const device: { lost: GpuDeviceLostError | null } = { lost: null };
    rt.onLost((e) => {
      device.lost = e;
      trainer.stop();
    });
    const checkpoint = async () => {
      const step = trainer.state.step;
      if (rt.lost || step === this.savedStep) return;
      const bytes = await saveCheckpoint(this.policy, trainer.state, this.config);
      try {
        await storage.write(CHECKPOINT_FILE, bytes);
      } catch (e) {
        emit({ type: 'log', level: 'error', message: `checkpoint of step ${step} not saved to ${storage.where(CHECKPOINT_FILE)}: ${(e as Error).message}` });
        return;
      }
      this.savedStep = step;
      emit({ type: 'checkpoint', step, where: storage.where(CHECKPOINT_FILE), bytes: bytes.length });
    };
    try {
      await trainer.run(checkpoint);
      await checkpoint(); // with checkpointEvery 0 nothing was saved on the way
    } catch (e) {
      if (!device.lost) throw e; // a readback cut short by the loss fails with a plain error
    }
    if (device.lost) {
      const kept = this.savedStep >= 0 ? `the checkpoint of step ${this.savedStep} in ${storage.where(CHECKPOINT_FILE)} is intact` : 'no checkpoint was written yet';
      emit({ type: 'log', level: 'error', message: `${device.lost.message}\nstopped during step ${trainer.state.step + 1}; ${kept}` });
    }
    return { step: trainer.state.step, stopped: trainer.stopping, savedStep: this.savedStep, lost: device.lost };
  }

  /** LoRA: PEFT's adapter files; full: merged weights in Hugging Face layout with the model's other files. */
  async exportFiles(): Promise<{ name: string; data: Uint8Array | string }[]> {
    const { config, model } = this.prepared;
    if (config.mode === 'lora') {
      const peft = await exportPeft(this.policy, peftBaseName(config.model, model.source));
      return [{ name: 'adapter_model.safetensors', data: peft.adapter }, { name: 'adapter_config.json', data: peft.config }];
    }
    return this.mergedFiles();
  }

  /** The policy merged into its base (in the base's dtype), in Hugging Face layout with the model's other files. */
  async mergedFiles(): Promise<{ name: string; data: Uint8Array | string }[]> {
    const { model } = this.prepared;
    const files: { name: string; data: Uint8Array | string }[] = [{ name: 'model.safetensors', data: await exportMerged(this.policy, model.loaded) }];
    for (const name of MODEL_FILES) {
      const opened = await model.source.open(name);
      if (opened) files.push({ name, data: new Uint8Array(await new Response(opened.stream).arrayBuffer()) });
    }
    return files;
  }

  release(): void {
    this.trainer?.release();
    this.ownReference?.release();
    this.policy.release();
  }
}

/** What PEFT's base_model_name_or_path should name: the Hub repo, or where the weights came from. */
export function peftBaseName(spec: ModelSpec, source: ModelSource): string {
  if (typeof spec === 'object') return spec.hub;
  return spec.startsWith('hub:') ? spec.slice(4) : source.where('');
}
