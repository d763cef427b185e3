// Studio state (zustand). Actions talk to the engine Worker through EngineClient; components only read
// state and call actions.
import { create } from 'zustand';
import type { SyntheticLevel } from '../data/synthetic.ts';
import type { EvalEntry } from '../eval/runner.ts';
import type { Bench } from '../eval/suites.ts';
import type { GpuInfo } from '../gpu/device.ts';
import { PLAYGROUND_EXAMPLES } from '../toolcall/examples.ts';
import { toolName } from '../data/instance.ts';
import type {
  AdapterInfo,
  BenchFile,
  BenchReport,
  BenchSource,
  CheckpointInfo,
  Completion,
  CrossCheckReport,
  DownloadFile,
  EngineError,
  EntryDetail,
  GenerateReport,
  InferenceBackend,
  LoadProgress,
  ModelInfo,
  ModelSourceSpec,
  OrtBackend,
  OrtModelInfo,
  OrtSourceSpec,
  PolicyChoice,
  SelftestCase,
  SelftestReport,
  TrainArgs,
  TrainEvent,
  TrainReport,
} from '../worker/protocol.ts';
import { benchSizeFor, type DecodeRate } from './bench-estimate.ts';
import { saveBlob } from './download.tsx';
import { EngineCallError, type EngineClient } from './engine-client.ts';
import { DEFAULT_TRAIN_FORM, patchForm, trainArgs, type FormPatch, type TrainForm } from './train-form.ts';
import { IDLE_VIEW, failed, running, started, withEvents, type TrainingView } from './training-run.ts';

export type GpuState =
  | { status: 'connecting' }
  | { status: 'ready'; info: GpuInfo }
  | { status: 'failed'; error: EngineError };

export type SelftestState =
  | { status: 'idle' }
  | { status: 'running'; cases: SelftestCase[] }
  | { status: 'done'; cases: SelftestCase[]; report: SelftestReport }
  | { status: 'failed'; cases: SelftestCase[]; error: EngineError };

export type LoadState =
  | { status: 'idle' }
  | { status: 'loading'; label: string; progress: LoadProgress | null }
  | { status: 'failed'; error: EngineError }; // code 'cancelled' when the user cancelled

/** The attached adapter (a refused one leaves it attached), the folder being read, the last refusal. */
export interface AdapterState {
  info: AdapterInfo | null;
  loading: string | null;
  error: EngineError | null;
}

const NO_ADAPTER: AdapterState = { info: null, loading: null, error: null };

export type GenerationState =
  | { status: 'idle' }
  | { status: 'running'; n: number; promptTokens: number | null; completions: Completion[] }
  | { status: 'done'; n: number; completions: Completion[]; report: GenerateReport }
  | { status: 'failed'; n: number; completions: Completion[]; error: EngineError };

export type SourceKind = ModelSourceSpec['kind'];

/** Where an onnxruntime-web backend takes its model: a policy exported in the Worker, or an ONNX folder. */
export type OrtSourceKind = PolicyChoice | 'hub' | 'files';

/** One onnxruntime-web backend: its model (a refused one leaves it), the load running, the last refusal. */
export interface OrtState {
  info: OrtModelInfo | null;
  loading: string | null;
  progress: LoadProgress | null;
  error: EngineError | null;
}

const NO_ORT: OrtState = { info: null, loading: null, progress: null, error: null };

export type CrossCheckState =
  | { status: 'running' }
  | { status: 'done'; report: CrossCheckReport }
  | { status: 'failed'; error: EngineError };

/** The playground's form; kept here so it survives switching tabs. */
export interface PlaygroundSettings {
  sourceKind: SourceKind;
  hubRepo: string;
  /** who decodes: our engine or onnxruntime-web */
  backend: InferenceBackend;
  ortSource: OrtSourceKind;
  ortHubRepo: string;
  question: string;
  tools: string[];
  n: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
}

export type ExportState =
  | { status: 'idle' }
  | { status: 'running' }
  | { status: 'done'; files: DownloadFile[] }
  | { status: 'failed'; error: EngineError };

/** The Benchmarks tab's form. */
export interface BenchForm {
  bench: Bench;
  /** BFCL and API-Bank data: picked files or a base URL */
  from: 'files' | 'url';
  files: BenchFile[];
  url: string;
  /** the synthetic held-out split */
  level: SyntheticLevel;
  seed: number;
  count: number;
  limit: number;
  maxNewTokens: number;
  batchSize: number;
  model: 'loaded' | 'trained';
  backend: InferenceBackend;
}

export interface BenchView {
  status: 'idle' | 'running' | 'done' | 'failed';
  stopping: boolean;
  bench: Bench | null;
  total: number;
  done: number;
  correct: number;
  tokensPerSec: number;
  /** as they finish; the report's when done */
  entries: EvalEntry[];
  /** records that could not be read */
  errors: string[];
  report: BenchReport | null;
  error: EngineError | null;
  /** each entry's request and expected answer, by id */
  details: Record<string, EntryDetail>;
  /** when the run was started (ms since the epoch), for elapsed time and the estimate */
  startedAt: number;
  /** the running batch's decoding: token k of at most N; null between batches */
  decoding: { token: number; of: number } | null;
}

const IDLE_BENCH: BenchView = {
  status: 'idle', stopping: false, bench: null, total: 0, done: 0, correct: 0, tokensPerSec: 0, entries: [], errors: [], report: null, error: null,
  details: {}, startedAt: 0, decoding: null,
};

const DEFAULT_BENCH_FORM: BenchForm = {
  bench: 'synthetic',
  from: 'files',
  files: [],
  url: '',
  level: 'tiny',
  seed: 0,
  count: 200,
  limit: 0,
  maxNewTokens: 256,
  batchSize: 8,
  model: 'loaded',
  backend: 'engine',
};

const FIRST_EXAMPLE = PLAYGROUND_EXAMPLES[0];

const DEFAULT_SETTINGS: PlaygroundSettings = {
  sourceKind: 'embedded',
  hubRepo: 'Qwen/Qwen2.5-0.5B-Instruct',
  backend: 'engine',
  ortSource: 'loaded',
  ortHubRepo: 'onnx-community/Qwen2.5-0.5B-Instruct',
  question: FIRST_EXAMPLE.question,
  tools: FIRST_EXAMPLE.tools.map((t) => toolName(t) ?? '?'),
  n: 4,
  maxNewTokens: 128,
  temperature: 0.7, // Qwen2.5-Instruct's generation_config
  topP: 0.8,
  topK: 20,
  seed: 1,
};

export interface Studio {
  engine: EngineClient | null;
  gpu: GpuState;
  selftest: SelftestState;
  /** The model the Worker holds now (null before the first load, and once a replaced one is freed). */
  model: ModelInfo | null;
  load: LoadState;
  /** a LoRA adapter over the loaded model (Playground and Benchmarks) */
  adapter: AdapterState;
  generation: GenerationState;
  settings: PlaygroundSettings;
  training: TrainingView;
  trainForm: TrainForm;
  /** the run saved in the browser's storage (OPFS) */
  checkpoint: CheckpointInfo | null;
  exported: ExportState;
  bench: BenchView;
  benchForm: BenchForm;
  /** onnxruntime-web's backends, each with its own model */
  ort: Record<OrtBackend, OrtState>;
  /** the GPU tab's cross-checks against onnxruntime-web */
  crossCheck: Partial<Record<OrtBackend, CrossCheckState>>;
  /** Export ONNX of the loaded model and of the trained policy */
  onnxExport: Record<PolicyChoice, ExportState>;
  /** the last decoding rate measured in this session (Playground or a benchmark), for time estimates */
  decodeRate: DecodeRate | null;
  /** Attaches the engine, acquires the GPU and runs the self-test once. Call once at startup. */
  boot(engine: EngineClient): Promise<void>;
  /** (Re)acquires the GPU: at boot, and after a device loss. */
  connect(): Promise<void>;
  runSelftest(): Promise<void>;
  loadModel(source: ModelSourceSpec, label: string): Promise<void>;
  cancelLoad(): void;
  loadAdapter(files: File[], label: string): Promise<void>;
  unloadAdapter(): Promise<void>;
  generate(): Promise<void>;
  stopGenerate(): void;
  updateSettings(patch: Partial<PlaygroundSettings>): void;
  updateTrainForm(patch: FormPatch): void;
  startTraining(): Promise<void>;
  /** A GRPO run (the form's settings) from the finished SFT run's policy, its curves kept beside. */
  continueWithGrpo(): Promise<void>;
  /** Continues the saved run up to the form's step count. */
  resumeTraining(): Promise<void>;
  stopTraining(): void;
  refreshCheckpoint(): Promise<void>;
  downloadCheckpoint(): Promise<void>;
  exportModel(): Promise<void>;
  /** The run for verl or TRL, as one tar download (into `exported`). */
  exportRun(engine: 'verl' | 'trl'): Promise<void>;
  updateBenchForm(patch: Partial<BenchForm>): void;
  runBenchmark(): Promise<void>;
  stopBenchmark(): void;
  /** Loads the settings' ONNX source on an onnxruntime-web backend. */
  loadOrt(backend: OrtBackend, source: OrtSourceSpec, label: string): Promise<void>;
  runCrossCheck(backend: OrtBackend): Promise<void>;
  exportOnnx(policy: PolicyChoice, dtype: 'f32' | 'f16'): Promise<void>;
}

function asEngineError(e: unknown): EngineError {
  if (e instanceof EngineCallError) return { code: e.code, message: e.message };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export const useStudio = create<Studio>()((set, get) => ({
  engine: null,
  gpu: { status: 'connecting' },
  selftest: { status: 'idle' },
  model: null,
  load: { status: 'idle' },
  adapter: NO_ADAPTER,
  generation: { status: 'idle' },
  settings: DEFAULT_SETTINGS,
  training: IDLE_VIEW,
  trainForm: DEFAULT_TRAIN_FORM,
  checkpoint: null,
  exported: { status: 'idle' },
  bench: IDLE_BENCH,
  benchForm: DEFAULT_BENCH_FORM,
  ort: { webgpu: NO_ORT, wasm: NO_ORT },
  crossCheck: {},
  onnxExport: { loaded: { status: 'idle' }, trained: { status: 'idle' } },
  decodeRate: null,

  async boot(engine) {
    set({ engine });
    engine.onNotice((n) => {
      switch (n.type) {
        case 'selftest-case': {
          const st = get().selftest;
          if (st.status === 'running') set({ selftest: { status: 'running', cases: [...st.cases, n.case] } });
          break;
        }
        case 'device-lost':
          set({ gpu: { status: 'failed', error: n.error }, model: null }); // the weights went with the device
          break;
        case 'load-progress': {
          const { load, ort } = get();
          if (load.status === 'loading') set({ load: { ...load, progress: n } });
          const backend = (Object.keys(ort) as OrtBackend[]).find((b) => ort[b].loading !== null);
          if (backend) set({ ort: { ...ort, [backend]: { ...ort[backend], progress: n } } });
          break;
        }
        case 'model-unloaded':
          set({ model: null, adapter: NO_ADAPTER }); // the adapter went with its base
          break;
        case 'generate-start': {
          const g = get().generation;
          if (g.status === 'running') set({ generation: { ...g, promptTokens: n.promptTokens } });
          break;
        }
        case 'generate-step': {
          const g = get().generation;
          if (g.status === 'running') set({ generation: { ...g, completions: n.completions } });
          break;
        }
        case 'train-start':
          // The saved run stays until the new one writes its first checkpoint (a 'checkpoint' event refreshes it).
          set({ training: started(get().training, n) });
          break;
        case 'train-events':
          set({ training: withEvents(get().training, n.events, n.prompts) });
          if (n.events.some((e) => e.type === 'checkpoint')) void get().refreshCheckpoint();
          break;
        case 'bench-start':
          set({ bench: { ...get().bench, bench: n.bench, total: n.total, errors: n.errors } });
          break;
        case 'bench-decode': {
          const b = get().bench;
          if (b.status === 'running') set({ bench: { ...b, decoding: { token: n.token, of: n.of } } });
          break;
        }
        case 'bench-progress': {
          const b = get().bench;
          set({
            bench: {
              ...b, done: n.done, correct: n.correct, tokensPerSec: n.tokensPerSec, entries: [...b.entries, ...n.entries], details: { ...b.details, ...n.details }, decoding: null,
            },
          });
          break;
        }
      }
    });
    await get().connect();
    void get().refreshCheckpoint();
    if (get().gpu.status === 'ready') await get().runSelftest();
  },

  async connect() {
    const engine = get().engine;
    if (!engine) return;
    set({ gpu: { status: 'connecting' } });
    try {
      const info = await engine.call('init', {});
      set({ gpu: { status: 'ready', info } });
      // Until the user sets it, the benchmark's size is one that finishes in minutes on this adapter.
      if (get().benchForm === DEFAULT_BENCH_FORM) set({ benchForm: { ...DEFAULT_BENCH_FORM, ...benchSizeFor(info) } });
    } catch (e) {
      set({ gpu: { status: 'failed', error: asEngineError(e) } });
    }
  },

  async runSelftest() {
    const engine = get().engine;
    if (!engine || get().selftest.status === 'running') return;
    set({ selftest: { status: 'running', cases: [] } });
    try {
      const report = await engine.call('selftest', {});
      set({ selftest: { status: 'done', cases: report.cases, report } });
    } catch (e) {
      const st = get().selftest;
      set({ selftest: { status: 'failed', cases: 'cases' in st ? st.cases : [], error: asEngineError(e) } });
    }
  },

  async loadModel(source, label) {
    const engine = get().engine;
    if (!engine || get().load.status === 'loading') return;
    set({ load: { status: 'loading', label, progress: null } });
    try {
      set({ model: await engine.call('loadModel', { source }), load: { status: 'idle' } });
    } catch (e) {
      set({ load: { status: 'failed', error: asEngineError(e) } });
    }
  },

  cancelLoad() {
    void get().engine?.call('cancelLoad', {});
  },

  async loadAdapter(files, label) {
    const engine = get().engine;
    if (!engine || get().adapter.loading !== null) return;
    set({ adapter: { ...get().adapter, loading: label, error: null } });
    try {
      set({ adapter: { info: await engine.call('loadAdapter', { files }), loading: null, error: null } });
    } catch (e) {
      set({ adapter: { ...get().adapter, loading: null, error: asEngineError(e) } });
    }
  },

  async unloadAdapter() {
    const engine = get().engine;
    if (!engine) return;
    await engine.call('unloadAdapter', {});
    set({ adapter: NO_ADAPTER });
  },

  async generate() {
    const { engine, settings: s } = get();
    if (!engine || get().generation.status === 'running') return;
    set({ generation: { status: 'running', n: s.n, promptTokens: null, completions: [] } });
    try {
      const report = await engine.call('generate', {
        backend: s.backend,
        question: s.question,
        tools: s.tools,
        n: s.n,
        maxNewTokens: s.maxNewTokens,
        sampling: { temperature: s.temperature, topP: s.topP, topK: s.topK, seed: s.seed },
      });
      set({ generation: { status: 'done', n: s.n, completions: report.completions, report } });
      if (report.decodeTokensPerSec > 0) set({ decodeRate: { tokensPerSec: report.decodeTokensPerSec, batch: s.n, where: 'the Playground' } });
    } catch (e) {
      const g = get().generation;
      set({ generation: { status: 'failed', n: s.n, completions: 'completions' in g ? g.completions : [], error: asEngineError(e) } });
    }
  },

  stopGenerate() {
    void get().engine?.call('stopGenerate', {});
  },

  updateSettings(patch) {
    set({ settings: { ...get().settings, ...patch } });
  },

  updateTrainForm(patch) {
    set({ trainForm: patchForm(get().trainForm, patch) });
  },

  async startTraining() {
    const engine = get().engine;
    const args = formArgs();
    if (!engine || !args) return;
    await train(() => engine.call('startTraining', args), 'new');
  },

  async continueWithGrpo() {
    const engine = get().engine;
    get().updateTrainForm({ config: { method: 'grpo' } });
    const args = formArgs();
    if (!engine || !args) return;
    await train(() => engine.call('continueWithGrpo', args), 'continue');
  },

  async resumeTraining() {
    const engine = get().engine;
    const saved = get().checkpoint;
    if (!engine || !saved || get().training.status === 'running') return;
    await train(() => engine.call('resumeTraining', { steps: get().trainForm.config[saved.method].steps }), 'resume');
  },

  stopTraining() {
    set({ training: { ...get().training, stopping: true } });
    void get().engine?.call('stopTraining', {});
  },

  async refreshCheckpoint() {
    const engine = get().engine;
    if (!engine) return;
    try {
      set({ checkpoint: await engine.call('trainingCheckpoint', {}) });
    } catch {
      set({ checkpoint: null }); // no OPFS in this browser: there is nothing to resume or download
    }
  },

  async downloadCheckpoint() {
    const engine = get().engine;
    if (!engine) return;
    try {
      const { name, blob } = await engine.call('downloadCheckpoint', {});
      saveBlob(name, blob);
    } catch (e) {
      set({ training: withEvents(get().training, [{ type: 'log', level: 'error', message: `download failed: ${asEngineError(e).message}` }], {}) });
    }
  },

  async exportModel() {
    const engine = get().engine;
    if (!engine || get().exported.status === 'running') return;
    set({ exported: { status: 'running' } });
    try {
      set({ exported: { status: 'done', files: await engine.call('exportModel', {}) } });
    } catch (e) {
      set({ exported: { status: 'failed', error: asEngineError(e) } });
    }
  },

  async exportRun(engine) {
    const engineClient = get().engine;
    if (!engineClient || get().exported.status === 'running') return;
    set({ exported: { status: 'running' } });
    try {
      set({ exported: { status: 'done', files: await engineClient.call('exportRun', { engine }) } });
    } catch (e) {
      set({ exported: { status: 'failed', error: asEngineError(e) } });
    }
  },

  updateBenchForm(patch) {
    set({ benchForm: { ...get().benchForm, ...patch } });
  },

  async runBenchmark() {
    const { engine, benchForm: f } = get();
    if (!engine || get().bench.status === 'running') return;
    const source: BenchSource =
      f.bench === 'synthetic'
        ? { bench: 'synthetic', level: f.level, seed: f.seed, count: f.count }
        : f.from === 'url'
          ? { bench: f.bench, url: f.url.trim() }
          : { bench: f.bench, files: f.files };
    set({ bench: { ...IDLE_BENCH, status: 'running', startedAt: Date.now() } });
    try {
      const report = await engine.call('runBenchmark', {
        backend: f.backend, source, limit: f.limit, maxNewTokens: f.maxNewTokens, batchSize: f.batchSize, model: f.model,
      });
      set({ bench: { ...get().bench, status: 'done', stopping: false, entries: report.run.entries, report } });
      if (report.run.completionTokens > 0) {
        set({ decodeRate: { tokensPerSec: report.run.completionTokens / (report.run.ms / 1000), batch: f.batchSize, where: 'the last benchmark' } });
      }
    } catch (e) {
      set({ bench: { ...get().bench, status: 'failed', stopping: false, error: asEngineError(e) } });
    }
  },

  stopBenchmark() {
    set({ bench: { ...get().bench, stopping: true } });
    void get().engine?.call('stopBenchmark', {});
  },

  async loadOrt(backend, source, label) {
    const engine = get().engine;
    if (!engine || get().ort[backend].loading !== null) return;
    const patch = (p: Partial<OrtState>) => set({ ort: { ...get().ort, [backend]: { ...get().ort[backend], ...p } } });
    patch({ loading: label, progress: null, error: null });
    try {
      patch({ info: await engine.call('loadOrt', { backend, source }), loading: null });
    } catch (e) {
      patch({ loading: null, error: asEngineError(e) });
    }
  },

  async runCrossCheck(backend) {
    const engine = get().engine;
    if (!engine || get().crossCheck[backend]?.status === 'running') return;
    const put = (st: CrossCheckState) => set({ crossCheck: { ...get().crossCheck, [backend]: st } });
    put({ status: 'running' });
    try {
      put({ status: 'done', report: await engine.call('crossCheck', { backend }) });
    } catch (e) {
      put({ status: 'failed', error: asEngineError(e) });
    }
  },

  async exportOnnx(policy, dtype) {
    const engine = get().engine;
    if (!engine || get().onnxExport[policy].status === 'running') return;
    const put = (st: ExportState) => set({ onnxExport: { ...get().onnxExport, [policy]: st } });
    put({ status: 'running' });
    try {
      put({ status: 'done', files: await engine.call('exportOnnx', { policy, dtype }) });
    } catch (e) {
      put({ status: 'failed', error: asEngineError(e) });
    }
  },
}));

/**
 * What the engine Worker is busy with, or null. It runs one call at a time, so a button that would start
 * another long call waits for this one: the panels disable them and say why.
 */
export function engineBusy(s: Studio): string | null {
  if (s.training.status === 'running') return 'training';
  if (s.bench.status === 'running') return 'running a benchmark';
  if (s.generation.status === 'running') return 'generating';
  if (s.load.status === 'loading') return 'loading a model';
  if (Object.values(s.ort).some((o) => o.loading !== null)) return 'loading a model on onnxruntime-web';
  if (Object.values(s.crossCheck).some((c) => c.status === 'running')) return 'cross-checking with onnxruntime-web';
  if (Object.values(s.onnxExport).some((x) => x.status === 'running')) return 'exporting ONNX';
  return null;
}

/**
 * The form as startTraining arguments; null (with the reason shown) when it cannot start. A BFCL or API-Bank
 * benchmark during training reads the Benchmarks tab's data: its URL, or its picked files.
 */
function formArgs(form = useStudio.getState().trainForm): TrainArgs | null {
  const { getState: get, setState: set } = useStudio;
  if (get().training.status === 'running') return null;
  try {
    const args = trainArgs(form);
    const b = args.config.benchmark;
    if (!b || b.bench === 'synthetic') return { ...args, benchFiles: [] };
    const f = get().benchForm;
    if (f.from === 'url' ? f.url.trim() === '' : f.files.length === 0) throw new Error(`the benchmark during training reads the Benchmarks tab’s ${b.bench} data: pick its files or give its URL there first`);
    const data = f.from === 'url' ? f.url.trim() : 'files picked on the Benchmarks tab';
    return { config: { ...args.config, benchmark: { ...b, data } }, file: args.file, benchFiles: f.from === 'url' ? [] : f.files };
  } catch (e) {
    set({ training: { ...get().training, error: asEngineError(e) } });
    return null;
  }
}

/**
 * A run of `form` (not necessarily the one on screen) under `name`, or a GRPO run continuing the SFT run
 * that just finished; resolves with how it ended. The ablation sets run their variants through it.
 */
export async function runNamed(form: TrainForm, name: string, kind: 'new' | 'continue'): Promise<'done' | 'stopped' | 'failed'> {
  const engine = useStudio.getState().engine;
  const args = formArgs(form);
  if (!engine || !args) return 'failed';
  const named = { ...args, name };
  await train(() => engine.call(kind === 'new' ? 'startTraining' : 'continueWithGrpo', named), kind);
  const t = useStudio.getState().training;
  return t.status === 'done' ? 'done' : t.status === 'stopped' ? 'stopped' : 'failed';
}

/** Continues the kept run `id` up to `steps`, its curves from its own events (it becomes the saved run). */
export async function resumeKeptRun(id: string, steps: number, events: TrainEvent[]): Promise<void> {
  const engine = useStudio.getState().engine;
  if (!engine || useStudio.getState().training.status === 'running') return;
  useStudio.setState({ training: withEvents({ ...IDLE_VIEW, logs: useStudio.getState().training.logs }, events, {}) });
  await train(() => engine.call('resumeTraining', { steps, id }), 'resume');
}

/** Runs a training call; its notices fill the view as it goes, its reply or failure closes it. */
async function train(call: () => Promise<TrainReport>, kind: 'new' | 'resume' | 'continue'): Promise<void> {
  const { getState: get, setState: set } = useStudio;
  const before = get().training;
  set({ training: running(before, kind), exported: { status: 'idle' } });
  try {
    const report = await call();
    set({ training: { ...get().training, status: report.stopped ? 'stopped' : 'done', stopping: false }, checkpoint: report.checkpoint });
  } catch (e) {
    // A run that failed before it started (bad config or data) leaves the last run's view as it was.
    const now = get().training;
    set({ training: now.start === null || now.start === before.start ? { ...before, error: asEngineError(e) } : failed(now, asEngineError(e)) });
    void get().refreshCheckpoint();
  }
}
