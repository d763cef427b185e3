// The Training tab's engine side: one run at a time on the Playground's model, assembled by src/train/run.ts
// exactly as the CLI's train command assembles it, its events batched for the page, the run saved in the
// browser's storage as it goes (a RunShelf), and the exports. Runs in the Worker; knows nothing of the page.
import { toolName, type Instance } from '../data/instance.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { Qwen2Model } from '../model/model.ts';
import type { LoadedModel } from '../model/source.ts';
import { headerSize, parseHeader, parseSafetensors } from '../model/safetensors.ts';
import { exportMerged, type CheckpointMeta } from '../train/checkpoint.ts';
import type { ModelSpec, TrainConfig } from '../train/config.ts';
import type { TrainEvent } from '../train/events.ts';
import { CHECKPOINT_FILE, Run, methodConfig, prepareRun, readResume, sameModel, type BenchFiles, type Resume, type RunModel, type RunStorage } from '../train/run.ts';
import { StepThrough } from '../train/step-through.ts';
import { isUrl, urlFiles } from '../eval/suites.ts';
import { benchPath, pickedFiles } from './benchmark.ts';
import type { ToolCallExample } from '../train/toolcall-task.ts';
import { GrpoTrainer } from '../train/trainer.ts';
import { toolCallBlock } from '../toolcall/template.ts';
import type { Loaded } from './playground.ts';
import type { Engine } from '../export/bundle.ts';
import { handover } from '../export/handover.ts';
import { tarArchive } from '../export/tar.ts';
import REWARD_SOURCE from '../export/python/toolcall_reward.py?raw';
import { RUN_META, type RunShelf } from './run-shelf.ts';
import type { BenchFile, CheckpointInfo, DownloadFile, PromptInfo, RunInfo, RunMeta, TrainReport, TrainStart } from './protocol.ts';

// Events of one step arrive in a burst; sending them about once a frame keeps the page fluid.
const BATCH_MS = 33;
/** The run's event log is written at most this often while it trains, and at its end. */
const SAVE_MS = 3000;
/** The run's events, as the CLI's `train --out` writes them. */
export const EVENTS = 'events.jsonl';
/** A copy of an uploaded dataset in the run's folder, so a run can be resumed after a reload. */
const DATASET = 'dataset';
/** A run's starting weights when they are not the Playground model's (GRPO continuing an SFT run). */
const START = 'start-model.safetensors';

export interface TrainHooks {
  onStart(start: TrainStart): void;
  onEvents(events: TrainEvent[], prompts: Record<string, PromptInfo>): void;
}

/** The config's `model` for the Playground's model: what a CLI config would say to train the same one. */
export function modelSpecOf(base: Loaded): ModelSpec {
  if (base.spec.kind === 'hub') return { hub: base.spec.repo };
  return base.spec.kind === 'embedded' ? 'embedded' : base.files.source;
}

const runModel = (base: Loaded): RunModel => ({ source: base.source, loaded: base.files, tokenizer: base.tokenizer, frozen: base.model });

interface Current {
  base: Loaded;
  run: Run;
  id: string;
}

export class Training {
  /** The last run, kept after it ends for exports and benchmarks. */
  private current: Current | null = null;
  private active: Run | null = null;
  private activeId: string | null = null;
  /** step-through mode, shared by every GRPO run of the studio */
  readonly stepThrough = new StepThrough();

  constructor(private readonly shelf: RunShelf) {}

  /**
   * A new run. The config and the data are checked first and nothing changes if they fail; the saved run is
   * replaced once the new one has written its first checkpoint.
   */
  async start(rt: GpuRuntime, base: Loaded, raw: TrainConfig, file: Blob | null, hooks: TrainHooks, benchFiles: BenchFile[] = [], name?: string): Promise<TrainReport> {
    return this.fresh(rt, base, raw, file, runModel(base), null, hooks, benchFiles, name);
  }

  /**
   * A GRPO run from the last SFT run's trained policy (its weights merged), the SFT run left as it was. The
   * starting weights are kept in the new run's storage, so it resumes after a reload like any other.
   */
  async continueWithGrpo(
    rt: GpuRuntime, base: Loaded, raw: TrainConfig, file: Blob | null, hooks: TrainHooks, benchFiles: BenchFile[] = [], name?: string,
  ): Promise<TrainReport> {
    const { run } = await this.trained(rt, base);
    if (run.config.method !== 'sft') throw new Error('Continue with GRPO starts from a finished SFT run: the last run was GRPO');
    const weights = await exportMerged(run.policy, base.files);
    return this.fresh(rt, base, { ...raw, method: 'grpo' }, file, startingModel(base, weights), weights, hooks, benchFiles, name ?? 'SFT → GRPO');
  }

  private async fresh(
    rt: GpuRuntime, base: Loaded, raw: TrainConfig, file: Blob | null, model: RunModel, start: Uint8Array | null, hooks: TrainHooks, benchFiles: BenchFile[],
    name?: string,
  ): Promise<TrainReport> {
    const config: TrainConfig = { ...raw, model: modelSpecOf(base), resume: null };
    const readText = async () => {
      if (!file) throw new Error('no dataset file chosen');
      return file.text();
    };
    const picked = pickedFiles(benchFiles);
    const prepared = await prepareRun(config, model, readText, (data) => (isUrl(data) ? urlFiles(data) : picked));
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const storage = this.shelf.storage(id);
    const stream = new EventStream(hooks.onEvents, storage);
    try {
      const c = prepared.config;
      const meta: RunMeta = { name: name ?? defaultName(c), createdAt: Date.now(), method: c.method, model: modelLabel(c.model), data: dataLabel(c), steps: methodConfig(c).steps };
      await storage.write(RUN_META, JSON.stringify(meta));
      if (file) await storage.write(DATASET, new Uint8Array(await file.arrayBuffer()));
      if (start) await storage.write(START, start);
      // The benchmark's picked files go with the run, so that it resumes after a reload.
      if (config.benchmark && !isUrl(config.benchmark.data)) {
        for (const f of benchFiles) await storage.write(benchFileName(benchPath(f.path)), new Uint8Array(await f.file.arrayBuffer()));
      }
    } catch (e) {
      // No OPFS (a private window, say): the run trains all the same, it just cannot outlive the page.
      stream.push({ type: 'log', level: 'warn', message: `browser storage unavailable (${(e as Error).message}): this run cannot be resumed after a reload` });
    }
    return this.train(rt, base, prepared.config, id, this.promoting(id, storage), null, stream, hooks.onStart, prepared);
  }

  /** Continues the saved run up to `steps` in all. */
  /** Continues a saved run (the current one, or the run `id`, which becomes current) up to `steps` in all. */
  async resume(rt: GpuRuntime, base: Loaded, steps: number, hooks: TrainHooks, id?: string): Promise<TrainReport> {
    const saved = await this.saved(base, id);
    const { resume, storage } = saved;
    if (steps <= resume.meta.state.step) {
      throw new Error(`the saved run is at step ${resume.meta.state.step} already: raise Steps above it to continue`);
    }
    const c = resume.config;
    const config: TrainConfig = c.method === 'sft' ? { ...c, sft: { ...c.sft, steps } } : { ...c, grpo: { ...c.grpo, steps } };
    if (id !== undefined) await this.shelf.makeCurrent(id);
    const meta = await this.meta(saved.id);
    if (meta) await storage.write(RUN_META, JSON.stringify({ ...meta, steps }));
    const stream = new EventStream(hooks.onEvents, storage, await storage.read(EVENTS));
    return this.train(rt, base, config, saved.id, storage, resume, stream, hooks.onStart);
  }

  // ---- the runs kept in storage ----------------------------------------------------------------------

  /** Every run kept in the browser's storage, oldest first, with its checkpoint's step. */
  async runs(): Promise<RunInfo[]> {
    const current = await this.shelf.current();
    const out: RunInfo[] = [];
    for (const id of await this.shelf.list()) {
      const meta = await this.meta(id);
      if (!meta) continue;
      const checkpoint = await this.checkpointOf(id);
      out.push({ id, ...meta, current: id === current, checkpointStep: checkpoint?.step ?? null, active: this.activeId === id });
    }
    return out;
  }

  /** A run's events.jsonl (what the CLI writes for its runs). */
  async runEvents(id: string): Promise<string> {
    if (!(await this.meta(id))) throw new Error(`no run ${id} in the browser's storage`);
    const bytes = await this.shelf.storage(id).read(EVENTS);
    return bytes ? new TextDecoder().decode(bytes) : '';
  }

  async renameRun(id: string, name: string): Promise<void> {
    const meta = await this.meta(id);
    if (!meta) throw new Error(`no run ${id} in the browser's storage`);
    if (name.trim() === '') throw new Error('a run needs a name');
    await this.shelf.storage(id).write(RUN_META, JSON.stringify({ ...meta, name: name.trim() }));
  }

  async deleteRun(id: string): Promise<void> {
    if (this.activeId === id) throw new Error('this run is training: stop it first');
    if (this.current?.id === id) this.release();
    await this.shelf.remove(id);
  }

  /** A CLI run's events.jsonl kept as a run of its own (to show, overlay, export; it has no checkpoint to resume). */
  async importRun(name: string, events: string, meta: Omit<RunMeta, 'name' | 'createdAt'>): Promise<string> {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const storage = this.shelf.storage(id);
    await storage.write(EVENTS, events);
    await storage.write(RUN_META, JSON.stringify({ ...meta, name, createdAt: Date.now(), imported: true } satisfies RunMeta));
    return id;
  }

  private async meta(id: string): Promise<RunMeta | null> {
    const bytes = await this.shelf.storage(id).read(RUN_META);
    return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as RunMeta) : null;
  }

  /** Asks the running trainer to finish its step (then it checkpoints); false when none runs. */
  stop(): boolean {
    this.active?.trainer.stop();
    return this.active !== null;
  }

  async checkpointInfo(): Promise<CheckpointInfo | null> {
    const id = await this.shelf.current();
    return id ? this.checkpointOf(id) : null;
  }

  private async checkpointOf(id: string): Promise<CheckpointInfo | null> {
    const file = await this.shelf.file(id, CHECKPOINT_FILE);
    if (!file) return null;
    // Only the header: the tensors (with AdamW moments) may be gigabytes.
    const first = new Uint8Array(await file.slice(0, 8).arrayBuffer());
    const header = parseHeader(new Uint8Array(await file.slice(0, headerSize(first, CHECKPOINT_FILE)).arrayBuffer()), CHECKPOINT_FILE);
    const meta = JSON.parse(header.metadata.checkpoint ?? 'null') as CheckpointMeta | null;
    if (meta?.format !== 'tool-n1-studio-checkpoint') return null;
    const config = meta.config as TrainConfig;
    return { step: meta.state.step, steps: methodConfig(config).steps, method: config.method, mode: meta.mode, model: modelLabel(config.model), bytes: file.size, savedAt: (file as File).lastModified ?? 0 };
  }

  async checkpointFile(): Promise<DownloadFile> {
    const id = await this.shelf.current();
    const file = id ? await this.shelf.file(id, CHECKPOINT_FILE) : null;
    if (!file) throw new Error('no checkpoint saved yet');
    return { name: `tool-n1-checkpoint-step${(await this.checkpointInfo())?.step ?? 0}.safetensors`, blob: file };
  }

  /** LoRA: PEFT's adapter files; full: merged weights in Hugging Face layout with the model's other files. */
  async export(rt: GpuRuntime, base: Loaded): Promise<DownloadFile[]> {
    const { run } = await this.trained(rt, base);
    return (await run.exportFiles()).map(({ name, data }) => ({
      name,
      blob: new Blob([data as Uint8Array<ArrayBuffer> | string], name.endsWith('.json') ? { type: 'application/json' } : {}),
    }));
  }

  /** The run for verl or TRL (export-run's folder as one tar), the policy at its current step merged under model/. */
  async handover(rt: GpuRuntime, base: Loaded, engine: Engine): Promise<DownloadFile[]> {
    const { run } = await this.trained(rt, base);
    const step = run.trainer.state.step;
    const { files } = handover(engine, run.prepared, {
      configLabel: `the studio's run (${modelLabel(run.config.model)}, step ${step})`,
      rewardSource: REWARD_SOURCE,
      policy: { folder: 'model', what: `the run's policy at step ${step} merged into its base` },
    });
    const weights = (await run.mergedFiles()).map((f) => ({ ...f, name: `model/${f.name}` }));
    const dir = `tool-n1-${engine}-step${step}`;
    const tar = tarArchive([...files, ...weights].map((f) => ({ ...f, name: `${dir}/${f.name}` })));
    return [{ name: `${dir}.tar`, blob: new Blob([tar as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }) }];
  }

  /** The trained policy's weights on the host (LoRA merged into its base), for an ONNX export. */
  async trainedFiles(rt: GpuRuntime, base: Loaded): Promise<LoadedModel> {
    const { run } = await this.trained(rt, base);
    return withWeights(base, await exportMerged(run.policy, base.files), `${base.files.source} (trained, step ${run.trainer.state.step})`);
  }

  /** The trained model: the last run's, or the saved run's restored from storage. */
  async trainedModel(rt: GpuRuntime, base: Loaded): Promise<Qwen2Model> {
    return (await this.trained(rt, base)).run.policy.model;
  }

  /** Gives the last run's GPU memory back (a new run starts, or the model is replaced). */
  release(): void {
    if (!this.current) return;
    this.current.run.release();
    this.current.run.rt.pool.trim();
    this.current = null;
  }

  /** After a device loss the tensors are gone with the device: drop them without touching the GPU. */
  forget(): void {
    this.current = null;
  }

  /** The saved run's storage, checkpoint and config; it must train the loaded model. */
  private async saved(base: Loaded, which?: string): Promise<{ id: string; storage: RunStorage; resume: Resume }> {
    const id = which ?? (await this.shelf.current());
    const storage = id ? this.shelf.storage(id) : null;
    const bytes = storage ? await storage.read(CHECKPOINT_FILE) : null;
    if (!id || !storage || !bytes) throw new Error('no saved run: start one first');
    const resume = readResume(bytes, 'the saved checkpoint');
    if (!sameModel(resume.config.model, modelSpecOf(base))) {
      throw new Error(`the saved run trains ${modelLabel(resume.config.model)}: load it in the Playground first (${base.files.source} is loaded)`);
    }
    return { id, storage, resume };
  }

  private async trained(rt: GpuRuntime, base: Loaded): Promise<Current> {
    if (this.current?.base === base && this.current.run.rt === rt) return this.current;
    const { id, storage, resume } = await this.saved(base);
    const prepared = await prepareRun(resume.config, await savedModel(base, storage), savedDataset(storage), savedBenchFiles(storage));
    this.release();
    this.current = { base, id, run: new Run(rt, prepared, () => {}, resume, resume.meta.state.step) };
    return this.current;
  }

  /** Storage that makes its run the saved one when the first checkpoint is written. */
  private promoting(id: string, storage: RunStorage): RunStorage {
    let promoted = false;
    return {
      ...storage,
      write: async (name, data) => {
        await storage.write(name, data);
        if (name !== CHECKPOINT_FILE || promoted) return;
        await this.shelf.makeCurrent(id);
        promoted = true;
      },
    };
  }

  private async train(
    rt: GpuRuntime, base: Loaded, config: TrainConfig, id: string, storage: RunStorage, resume: Resume | null,
    stream: EventStream, onStart: TrainHooks['onStart'], prepared?: Awaited<ReturnType<typeof prepareRun>>,
  ): Promise<TrainReport> {
    const ready = prepared ?? (await prepareRun(config, await savedModel(base, storage), savedDataset(storage), savedBenchFiles(storage)));
    // The last run's GPU memory goes only now: everything that could fail without the GPU has been checked.
    this.release();
    for (const e of ready.notes) stream.push(e);
    const run = new Run(rt, ready, stream.push, resume ?? undefined, resume?.meta.state.step ?? -1);
    if (run.trainer instanceof GrpoTrainer) run.trainer.stepThrough = this.stepThrough;
    this.current = { base, id, run };
    stream.examples = new Map([...ready.task.train, ...ready.task.heldout].map((e) => [e.id, e]));
    onStart({
      model: modelLabel(config.model),
      mode: config.mode,
      config: ready.config,
      data: dataLabel(config),
      trainPrompts: ready.task.train.length,
      heldoutPrompts: ready.task.heldout.length,
      resumedFrom: resume?.meta.state.step ?? null,
      gpuBytes: rt.bytesHeld,
    });
    this.active = run;
    this.activeId = id;
    try {
      const result = await run.train(storage, stream.push);
      if (result.lost) {
        const hint = result.savedStep >= 0 ? ' Reconnect on the GPU tab, load the model and Resume.' : '';
        throw Object.assign(result.lost, { message: `${result.lost.message}${hint}` });
      }
      return { step: result.step, stopped: result.stopped, checkpoint: await this.checkpointInfo() };
    } finally {
      this.active = null;
      this.activeId = null;
      stream.flush();
      await stream.persist();
    }
  }
}

/** A run's default name: its method, reward and KL weight, what tells runs apart in a list. */
function defaultName(c: TrainConfig): string {
  const what = c.method === 'sft' ? `SFT (${c.sft.reasoning} reasoning)` : `GRPO ${c.reward}, β ${c.grpo.objective.beta}`;
  return `${what} · ${new Date().toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' })}`;
}

const dataLabel = (c: TrainConfig) => ('synthetic' in c.data ? `synthetic ${c.data.synthetic.level}, seed ${c.data.synthetic.seed}` : c.data.train);

/** How the studio names a run's model: the Playground's label for it. */
function modelLabel(spec: ModelSpec): string {
  if (typeof spec === 'object') return spec.hub;
  return spec === 'embedded' ? 'embedded tiny model' : spec.startsWith('hub:') ? spec.slice(4) : spec;
}

/** The Playground's model with other weights (a run's, merged): same config and tokenizer files. */
function withWeights(base: Loaded, weights: Uint8Array, label: string): LoadedModel {
  return { ...base.files, source: label, tensors: parseSafetensors(weights, START).tensors };
}

/** The Playground's model with an SFT run's weights, merged. */
function startingModel(base: Loaded, weights: Uint8Array): RunModel {
  return { source: base.source, loaded: withWeights(base, weights, `${base.files.source} after SFT`), tokenizer: base.tokenizer };
}

/** A saved run's starting model: the Playground's, or the weights it kept. */
async function savedModel(base: Loaded, storage: RunStorage): Promise<RunModel> {
  const start = await storage.read(START);
  return start ? startingModel(base, start) : runModel(base);
}

/** Reads the copy of the uploaded dataset kept in the run's storage. */
function savedDataset(storage: RunStorage): (path: string) => Promise<string> {
  return async (path) => {
    const bytes = await storage.read(DATASET);
    if (!bytes) throw new Error(`the copy of ${path} is missing from the browser's storage: start a new run with the file`);
    return new TextDecoder().decode(bytes);
  };
}

/** A picked benchmark file's name in the run's storage (one flat folder): "possible_answer/x.json" → "bench~possible_answer~x.json". */
const benchFileName = (path: string) => `bench~${path.replaceAll('/', '~')}`;

/** The benchmark files a saved run reads: its URL, or the copies of the picked files it kept. */
function savedBenchFiles(storage: RunStorage): BenchFiles {
  return (data) =>
    isUrl(data)
      ? urlFiles(data)
      : async (path) => {
          const bytes = await storage.read(benchFileName(path));
          return bytes ? new TextDecoder().decode(bytes) : null;
        };
}

// ---- events to the page ------------------------------------------------------------------------------

/**
 * Collects events and sends them in batches, each with the prompts its samples answer, and keeps the run's
 * events.jsonl in its storage (as the CLI's: no progress reports or traces), written every few seconds and at the end.
 */
class EventStream {
  examples = new Map<string, ToolCallExample>();
  private events: TrainEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private log: string;
  private written = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly send: TrainHooks['onEvents'], private readonly storage?: RunStorage, before?: Uint8Array | null) {
    this.log = before ? new TextDecoder().decode(before) : '';
  }

  push = (e: TrainEvent): void => {
    this.events.push(e);
    // The live progress reports and step-through traces are for the page; the log keeps what happened.
    if (e.type !== 'progress' && e.type !== 'trace') this.log += JSON.stringify(e) + '\n';
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
    if (Date.now() - this.written > SAVE_MS) void this.persist();
  };

  /** Writes the log so far (one write at a time; a failure is left for the next, and for the end). */
  persist(): Promise<void> {
    if (!this.storage) return Promise.resolve();
    this.written = Date.now();
    const text = this.log;
    const storage = this.storage;
    this.writing = this.writing.then(() => storage.write(EVENTS, text)).catch(() => {});
    return this.writing;
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.events.length === 0) return;
    const prompts: Record<string, PromptInfo> = {};
    for (const e of this.events) {
      const ids = e.type === 'sample' ? [e.exampleId] : e.type === 'trace' && e.phase === 'rollout' ? e.groups.map((g) => g.exampleId) : [];
      for (const id of ids) {
        const example = this.examples.get(id);
        if (example) prompts[id] = promptInfo(example.instance);
      }
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
