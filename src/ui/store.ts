// Studio state (zustand). Actions talk to the engine Worker through EngineClient; components only read
// state and call actions.
import { create } from 'zustand';
import type { GpuInfo } from '../gpu/device.ts';
import type { EngineError, SelftestCase, SelftestReport } from '../worker/protocol.ts';
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

interface Studio {
  engine: EngineClient | null;
  gpu: GpuState;
  selftest: SelftestState;
  /** Attaches the engine, acquires the GPU and runs the self-test once. Call once at startup. */
  boot(engine: EngineClient): Promise<void>;
  /** (Re)acquires the GPU: at boot, and after a device loss. */
  connect(): Promise<void>;
  runSelftest(): Promise<void>;
}

function asEngineError(e: unknown): EngineError {
  if (e instanceof EngineCallError) return { code: e.code, message: e.message };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export const useStudio = create<Studio>()((set, get) => ({
  engine: null,
  gpu: { status: 'connecting' },
  selftest: { status: 'idle' },

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
          set({ gpu: { status: 'failed', error: n.error } });
          break;
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
}));
