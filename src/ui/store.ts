// Studio state (zustand). Actions talk to the engine Worker through EngineClient; components only read
// state and call actions.
import { create } from 'zustand';
import type { GpuInfo } from '../gpu/device.ts';
import { PLAYGROUND_EXAMPLES } from '../toolcall/examples.ts';
import { toolName } from '../worker/prompt.ts';
import type {
  Completion,
  EngineError,
  GenerateReport,
  LoadProgress,
  ModelInfo,
  ModelSourceSpec,
  SelftestCase,
  SelftestReport,
} from '../worker/protocol.ts';
import { EngineCallError, type EngineClient } from './engine-client.ts';

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

export type GenerationState =
  | { status: 'idle' }
  | { status: 'running'; n: number; promptTokens: number | null; completions: Completion[] }
  | { status: 'done'; n: number; completions: Completion[]; report: GenerateReport }
  | { status: 'failed'; n: number; completions: Completion[]; error: EngineError };

export type SourceKind = ModelSourceSpec['kind'];

/** The playground's form; kept here so it survives switching tabs. */
export interface PlaygroundSettings {
  sourceKind: SourceKind;
  hubRepo: string;
  question: string;
  tools: string[];
  n: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
}

const FIRST_EXAMPLE = PLAYGROUND_EXAMPLES[0];

const DEFAULT_SETTINGS: PlaygroundSettings = {
  sourceKind: 'embedded',
  hubRepo: 'Qwen/Qwen2.5-0.5B-Instruct',
  question: FIRST_EXAMPLE.question,
  tools: FIRST_EXAMPLE.tools.map(toolName),
  n: 4,
  maxNewTokens: 128,
  temperature: 0.7, // Qwen2.5-Instruct's generation_config
  topP: 0.8,
  topK: 20,
  seed: 1,
};

interface Studio {
  engine: EngineClient | null;
  gpu: GpuState;
  selftest: SelftestState;
  /** The model the Worker holds now (null before the first load, and once a replaced one is freed). */
  model: ModelInfo | null;
  load: LoadState;
  generation: GenerationState;
  settings: PlaygroundSettings;
  /** Attaches the engine, acquires the GPU and runs the self-test once. Call once at startup. */
  boot(engine: EngineClient): Promise<void>;
  /** (Re)acquires the GPU: at boot, and after a device loss. */
  connect(): Promise<void>;
  runSelftest(): Promise<void>;
  loadModel(source: ModelSourceSpec, label: string): Promise<void>;
  cancelLoad(): void;
  generate(): Promise<void>;
  stopGenerate(): void;
  updateSettings(patch: Partial<PlaygroundSettings>): void;
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
  generation: { status: 'idle' },
  settings: DEFAULT_SETTINGS,

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
          const load = get().load;
          if (load.status === 'loading') set({ load: { ...load, progress: n } });
          break;
        }
        case 'model-unloaded':
          set({ model: null });
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
      }
    });
    await get().connect();
    if (get().gpu.status === 'ready') await get().runSelftest();
  },

  async connect() {
    const engine = get().engine;
    if (!engine) return;
    set({ gpu: { status: 'connecting' } });
    try {
      set({ gpu: { status: 'ready', info: await engine.call('init', {}) } });
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

  async generate() {
    const { engine, settings: s } = get();
    if (!engine || get().generation.status === 'running') return;
    set({ generation: { status: 'running', n: s.n, promptTokens: null, completions: [] } });
    try {
      const report = await engine.call('generate', {
        question: s.question,
        tools: s.tools,
        n: s.n,
        maxNewTokens: s.maxNewTokens,
        sampling: { temperature: s.temperature, topP: s.topP, topK: s.topK, seed: s.seed },
      });
      set({ generation: { status: 'done', n: s.n, completions: report.completions, report } });
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
}));
