// The Training tab's engine side: one GRPO run at a time on the Playground's model, its events batched for
// the page, the run saved in the browser's private file system (OPFS) as it goes, and the exports. Runs in
// the Worker; knows nothing of the page.
import { parseDataset, type DatasetFormat } from '../data/datasets.ts';
import { toolName, type Instance } from '../data/instance.ts';
import { generateSynthetic } from '../data/synthetic.ts';
import { GpuDeviceLostError } from '../gpu/device.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { Qwen2Model } from '../model/model.ts';
import { headerSize, parseHeader } from '../model/safetensors.ts';
import { exportMerged, exportPeft, readCheckpointMeta, restoreCheckpoint, saveCheckpoint, type CheckpointMeta } from '../train/checkpoint.ts';
import type { TrainEvent } from '../train/events.ts';
import { Policy } from '../train/policy.ts';
import { toolCallTask, type ToolCallExample } from '../train/toolcall-task.ts';
import { GrpoTrainer, PAPER_GRPO, type GrpoConfig } from '../train/trainer.ts';
import { toolCallBlock } from '../toolcall/template.ts';
import { Rng } from '../util/random.ts';
import type { Loaded } from './playground.ts';
import type { CheckpointInfo, DownloadFile, PromptInfo, TrainData, TrainReport, TrainSettings, TrainStart } from './protocol.ts';

// Events of one step arrive in a burst; sending them about once a frame keeps the page fluid.
const BATCH_MS = 33;
const CHECKPOINT = 'checkpoint.safetensors';
/** A copy of an uploaded dataset, so a run can be resumed after a reload. */
const DATASET = 'dataset';
/** Files copied next to a merged export so that the Playground's "Local folder" loads it like the original. */
const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** What a checkpoint's metadata keeps besides the trainer state: enough to rebuild its run. */
interface RunRecord {
  model: string;
  settings: TrainSettings;
  data: DataRecord;
}

type DataRecord =
  | Extract<TrainData, { kind: 'synthetic' }>
  | { kind: 'file'; name: string; format: DatasetFormat; heldoutFraction: number };

interface Run {
  base: Loaded;
  record: RunRecord;
  policy: Policy;
  trainer: GrpoTrainer<ToolCallExample>;
  examples: Map<string, ToolCallExample>;
}

export interface TrainHooks {
  onStart(start: TrainStart): void;
  onEvents(events: TrainEvent[], prompts: Record<string, PromptInfo>): void;
}

export class Training {
  /** The last run's policy, kept after it ends for exports and benchmarks. */
  private run: Run | null = null;
  private active: GrpoTrainer<ToolCallExample> | null = null;

  /** A new run; it replaces the saved one. */
  async start(rt: GpuRuntime, base: Loaded, settings: TrainSettings, data: TrainData, hooks: TrainHooks): Promise<TrainReport> {
    this.release();
    const stream = new EventStream(hooks.onEvents);
    try {
      await removeFile(CHECKPOINT);
      if (data.kind === 'file') await writeFile(DATASET, data.file);
    } catch (e) {
      // No OPFS (a private window, say): the run trains all the same, it just cannot outlive the page.
      stream.push({ type: 'log', level: 'warn', message: `browser storage unavailable (${(e as Error).message}): this run cannot be resumed after a reload` });
    }
    const record: RunRecord = {
      model: base.files.source,
      settings,
      data: data.kind === 'file' ? { kind: 'file', name: data.file.name, format: data.format, heldoutFraction: data.heldoutFraction } : data,
    };
    return this.train(rt, base, record, null, data.kind === 'file' ? data.file : null, stream, hooks.onStart);
  }

  /** Continues the saved run up to `steps` in all. */
  async resume(rt: GpuRuntime, base: Loaded, steps: number, hooks: TrainHooks): Promise<TrainReport> {
    this.release();
    const saved = await readSaved(base);
    if (steps <= saved.meta.state.step) {
      throw new Error(`the saved run is at step ${saved.meta.state.step} already: raise Steps above it to continue`);
    }
    const record = saved.meta.config as RunRecord;
    const settings = { ...record.settings, steps };
    return this.train(rt, base, { ...record, settings }, saved, await savedDataset(record), new EventStream(hooks.onEvents), hooks.onStart);
  }

  /** Asks the running trainer to finish its step (then it checkpoints); false when none runs. */
  stop(): boolean {
    this.active?.stop();
    return this.active !== null;
  }

  async checkpointInfo(): Promise<CheckpointInfo | null> {
    const file = await readFile(CHECKPOINT);
    if (!file) return null;
    // Only the header: the tensors (with AdamW moments) may be gigabytes.
    const first = new Uint8Array(await file.slice(0, 8).arrayBuffer());
    const header = parseHeader(new Uint8Array(await file.slice(0, headerSize(first, CHECKPOINT)).arrayBuffer()), CHECKPOINT);
    const meta = JSON.parse(header.metadata.checkpoint ?? 'null') as CheckpointMeta | null;
    if (meta?.format !== 'tool-n1-studio-checkpoint') return null;
    const record = meta.config as RunRecord;
    return { step: meta.state.step, steps: record.settings.steps, mode: meta.mode, model: record.model, bytes: file.size, savedAt: file.lastModified };
  }

  async checkpointFile(): Promise<DownloadFile> {
    const file = await readFile(CHECKPOINT);
    if (!file) throw new Error('no checkpoint saved yet');
    return { name: `tool-n1-checkpoint-step${(await this.checkpointInfo())?.step ?? 0}.safetensors`, blob: file };
  }

  /** LoRA: PEFT's adapter files; full: merged weights in Hugging Face layout with the model's other files. */
  async export(rt: GpuRuntime, base: Loaded): Promise<DownloadFile[]> {
    const { policy } = await this.trained(rt, base);
    if (policy.settings.mode === 'lora') {
      const peft = await exportPeft(policy, base.spec.kind === 'hub' ? base.spec.repo : base.files.source);
      return [
        { name: 'adapter_model.safetensors', blob: new Blob([peft.adapter as Uint8Array<ArrayBuffer>]) },
        { name: 'adapter_config.json', blob: new Blob([peft.config], { type: 'application/json' }) },
      ];
    }
    const files: DownloadFile[] = [{ name: 'model.safetensors', blob: new Blob([(await exportMerged(policy, base.files)) as Uint8Array<ArrayBuffer>]) }];
    for (const name of MODEL_FILES) {
      const opened = await base.source.open(name);
      if (opened) files.push({ name, blob: await new Response(opened.stream).blob() });
    }
    return files;
  }

  /** The trained model: the last run's, or the saved run's restored from OPFS. */
  async trainedModel(rt: GpuRuntime, base: Loaded): Promise<Qwen2Model> {
    return (await this.trained(rt, base)).policy.model;
  }

  /** Gives the last run's GPU memory back (a new run starts, or the model is replaced). */
  release(): void {
    if (!this.run) return;
    this.run.trainer.release();
    this.run.policy.release();
    this.run.policy.rt.pool.trim();
    this.run = null;
  }

  /** After a device loss the tensors are gone with the device: drop them without touching the GPU. */
  forget(): void {
    this.run = null;
  }

  private async trained(rt: GpuRuntime, base: Loaded): Promise<Run> {
    if (this.run?.base === base && this.run.policy.rt === rt) return this.run;
    this.release();
    const saved = await readSaved(base);
    const record = saved.meta.config as RunRecord;
    this.run = await build(rt, base, record, saved, await savedDataset(record), () => {});
    return this.run;
  }

  private async train(
    rt: GpuRuntime, base: Loaded, record: RunRecord, saved: Saved | null, dataset: Blob | null, stream: EventStream, onStart: TrainHooks['onStart'],
  ): Promise<TrainReport> {
    const run = await build(rt, base, record, saved, dataset, stream.push);
    this.run = run;
    stream.examples = run.examples;
    const { trainer, policy } = run;
    onStart({
      model: record.model,
      mode: record.settings.mode,
      settings: record.settings,
      data: record.data.kind === 'file' ? record.data.name : `synthetic ${record.data.level}, seed ${record.data.seed}`,
      trainPrompts: trainer.task.train.length,
      heldoutPrompts: trainer.task.heldout.length,
      resumedFrom: saved?.meta.state.step ?? null,
      gpuBytes: rt.bytesHeld,
    });

    let savedStep = saved?.meta.state.step ?? -1;
    const checkpoint = async () => {
      const step = trainer.state.step;
      if (rt.lost || step === savedStep) return;
      const bytes = await saveCheckpoint(policy, trainer.state, record);
      try {
        await writeFile(CHECKPOINT, bytes);
      } catch (e) {
        // No OPFS (private mode, quota): training goes on; only resuming after a reload is lost.
        stream.push({ type: 'log', level: 'error', message: `checkpoint of step ${step} not saved: ${(e as Error).message}` });
        return;
      }
      savedStep = step;
      stream.push({ type: 'checkpoint', step, where: 'browser storage (OPFS)', bytes: bytes.length });
    };

    this.active = trainer;
    try {
      await trainer.run(checkpoint);
      await checkpoint(); // with checkpointEvery 0 nothing was saved on the way
    } catch (e) {
      if (rt.lost) {
        const kept = savedStep >= 0 ? `The checkpoint of step ${savedStep} is intact: reconnect on the GPU tab, load the model and Resume.` : 'No checkpoint was saved yet.';
        stream.push({ type: 'log', level: 'error', message: `The GPU device was lost during step ${trainer.state.step + 1}. ${kept}` });
        // A readback cut short by the loss fails with a plain error: report it as the loss it is.
        if (!(e instanceof GpuDeviceLostError)) throw new GpuDeviceLostError('lost', (e as Error).message);
      }
      throw e;
    } finally {
      this.active = null;
      stream.flush();
    }
    return { step: trainer.state.step, stopped: trainer.stopping, checkpoint: await this.checkpointInfo() };
  }
}

// ---- building a run ----------------------------------------------------------------------------------

interface Saved {
  bytes: Uint8Array;
  meta: CheckpointMeta;
}

async function readSaved(base: Loaded): Promise<Saved> {
  const file = await readFile(CHECKPOINT);
  if (!file) throw new Error('no saved run: start one first');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const meta = readCheckpointMeta(bytes, 'the saved checkpoint');
  const model = (meta.config as RunRecord).model;
  if (model !== base.files.source) throw new Error(`the saved run trains ${model}: load it in the Playground first (${base.files.source} is loaded)`);
  return { bytes, meta };
}

function grpoConfig(s: TrainSettings): GrpoConfig {
  return {
    ...PAPER_GRPO,
    steps: s.steps,
    promptsPerStep: s.promptsPerStep,
    groupSize: s.groupSize,
    maxNewTokens: s.maxNewTokens,
    temperature: s.temperature,
    iterations: s.iterations,
    microBatch: s.microBatch,
    schedule: { kind: 'constant', lr: s.lr },
    objective: { ...PAPER_GRPO.objective, lossType: s.lossType, epsilonLow: s.epsilonLow, epsilonHigh: s.epsilonHigh, beta: s.beta, maxCompletionLength: s.maxNewTokens },
    evalEvery: s.evalEvery,
    evalSize: s.evalSize,
    checkpointEvery: s.checkpointEvery,
    seed: s.seed,
  };
}

/** The uploaded file of a saved run, from its copy in OPFS (null for synthetic data). */
async function savedDataset(record: RunRecord): Promise<Blob | null> {
  if (record.data.kind !== 'file') return null;
  const file = await readFile(DATASET);
  if (!file) throw new Error(`the copy of ${record.data.name} is missing from the browser's storage: start a new run with the file`);
  return file;
}

async function build(
  rt: GpuRuntime, base: Loaded, record: RunRecord, saved: Saved | null, dataset: Blob | null, log: (e: TrainEvent) => void,
): Promise<Run> {
  const s = record.settings;
  const { train, heldout } = await instances(record.data, dataset, s.seed, log);
  // Prompts must leave room for the completion in the reference's positions (the Playground's model).
  const maxPromptTokens = Math.min(s.maxPromptTokens, base.model.maxPositions - s.maxNewTokens);
  if (maxPromptTokens < 1) throw new Error(`max new tokens ${s.maxNewTokens} leaves no room for a prompt in ${base.model.maxPositions} positions`);
  const task = toolCallTask(base.tokenizer, train, heldout, { reward: s.reward, maxPromptTokens });
  const dropped = task.dropped.train.length + task.dropped.heldout.length;
  log({ type: 'log', level: dropped > 0 ? 'warn' : 'info', message: `${task.train.length} training and ${task.heldout.length} held-out prompts; ${dropped} longer than ${maxPromptTokens} tokens dropped` });

  const examples = new Map([...task.train, ...task.heldout].map((e) => [e.id, e]));
  const longest = [...examples.values()].reduce((n, e) => Math.max(n, e.promptIds.length), 0);
  // Full fine-tuning re-instantiates f32 weights from the loaded files; LoRA keeps a frozen base of its own.
  const policy = Policy.create(rt, base.files, { mode: s.mode, lora: s.lora, maxPositions: longest + s.maxNewTokens, seed: s.seed });
  const state = saved ? restoreCheckpoint(policy, saved.bytes, 'the saved checkpoint').state : undefined;
  // KL to the starting weights: the Playground's model is exactly those, frozen (LoRA switches adapters off).
  const reference = s.mode === 'full' && s.beta !== 0 ? base.model : null;
  const trainer = new GrpoTrainer(rt, policy, task, grpoConfig(s), log, reference, state);
  return { base, record, policy, trainer, examples };
}

/** The run's prompts; a file is split by a shuffle with the run's seed, as the CLI's train command does. */
async function instances(
  data: DataRecord, dataset: Blob | null, seed: number, log: (e: TrainEvent) => void,
): Promise<{ train: Instance[]; heldout: Instance[] }> {
  if (data.kind === 'synthetic') {
    return {
      train: generateSynthetic({ level: data.level, split: 'train', seed: data.seed, count: data.train }),
      heldout: generateSynthetic({ level: data.level, split: 'heldout', seed: data.seed, count: data.heldout }),
    };
  }
  if (!dataset) throw new Error(`${data.name}: no data`);
  const parsed = parseDataset(await dataset.text(), data.format);
  for (const e of parsed.errors.slice(0, 5)) log({ type: 'log', level: 'warn', message: `${data.name}:${e.line}: skipped: ${e.message}` });
  if (parsed.errors.length > 5) log({ type: 'log', level: 'warn', message: `${data.name}: ${parsed.errors.length - 5} more records skipped` });
  if (parsed.dropped > 0) log({ type: 'log', level: 'info', message: `${data.name}: ${parsed.dropped} instances dropped (calls to tools not offered)` });
  if (parsed.records.length === 0) throw new Error(`${data.name}: no ${data.format} records could be read`);
  const shuffled = new Rng(seed).shuffle([...parsed.records]);
  const n = Math.round(shuffled.length * data.heldoutFraction);
  return { train: shuffled.slice(n), heldout: shuffled.slice(0, n) };
}

// ---- events to the page ------------------------------------------------------------------------------

/** Collects events and sends them in batches, each with the prompts its samples answer. */
class EventStream {
  examples = new Map<string, ToolCallExample>();
  private events: TrainEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly send: TrainHooks['onEvents']) {}

  push = (e: TrainEvent): void => {
    this.events.push(e);
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  };

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.events.length === 0) return;
    const prompts: Record<string, PromptInfo> = {};
    for (const e of this.events) {
      const example = e.type === 'sample' ? this.examples.get(e.exampleId) : undefined;
      if (example) prompts[example.id] = promptInfo(example.instance);
    }
    this.send(this.events, prompts);
    this.events = [];
  }
}

function promptInfo(instance: Instance): PromptInfo {
  const lastUser = instance.turns.findLast((t) => t.role === 'user');
  return {
    question: lastUser?.content ?? '',
    tools: instance.tools.map((t) => toolName(t) ?? '?'),
    expected: toolCallBlock(instance.answers),
  };
}

// ---- OPFS --------------------------------------------------------------------------------------------

async function folder(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle('training', { create: true });
}

const notFound = (e: unknown) => e instanceof DOMException && e.name === 'NotFoundError';

async function readFile(name: string): Promise<File | null> {
  try {
    return await (await (await folder()).getFileHandle(name)).getFile();
  } catch (e) {
    if (notFound(e)) return null;
    throw e;
  }
}

/** createWritable fills a swap file that replaces the old one only on close: a failed write keeps the old file. */
async function writeFile(name: string, data: Blob | Uint8Array): Promise<void> {
  const writable = await (await (await folder()).getFileHandle(name, { create: true })).createWritable();
  try {
    await writable.write(data as Blob | Uint8Array<ArrayBuffer>);
    await writable.close();
  } catch (e) {
    await writable.abort();
    throw e;
  }
}

async function removeFile(name: string): Promise<void> {
  try {
    await (await folder()).removeEntry(name);
  } catch (e) {
    if (!notFound(e)) throw e;
  }
}
