// The runs kept in the browser's storage, side by side: the list (open, rename, delete, resume), the runs
// overlaid on the charts, a CLI events.jsonl opened as a run, exports, and the ablation sets run one after
// another. State of its own (zustand); the engine calls go through the studio's client.
import { create } from 'zustand';
import type { TrainEvent } from '../train/events.ts';
import type { RunInfo } from '../worker/protocol.ts';
import { ABLATIONS } from './ablations.ts';
import { saveBlob } from './download.tsx';
import { eventsCsv, parseEventsJsonl } from './run-files.ts';
import { patchForm } from './train-form.ts';
import { resumeKeptRun, runNamed, useStudio } from './store.ts';

export interface OverlaidRun {
  id: string;
  name: string;
  events: TrainEvent[];
}

export interface RunsState {
  runs: RunInfo[];
  overlay: OverlaidRun[];
  /** the ablation set running, and its variant */
  ablation: { id: string; variant: number; of: number } | null;
  /** the last thing that went wrong here, in words */
  error: string | null;
  refresh(): Promise<void>;
  /** Adds a kept run to the overlay, or takes it off. */
  toggle(id: string): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  remove(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** A CLI run's events.jsonl: kept as a run and overlaid. */
  open(file: File): Promise<void>;
  download(id: string, format: 'jsonl' | 'csv'): Promise<void>;
  runAblation(id: string): Promise<void>;
  /** Ends the set after the run now training (which Stop ends). */
  stopAblation(): void;
}

const fileName = (name: string) => name.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'run';

export const useRuns = create<RunsState>()((set, get) => {
  const engine = () => {
    const e = useStudio.getState().engine;
    if (!e) throw new Error('the engine is not running');
    return e;
  };
  const attempt = async (what: () => Promise<void>) => {
    try {
      set({ error: null });
      await what();
    } catch (e) {
      set({ error: e instanceof Error ? e.message : String(e) });
    }
  };
  const events = async (id: string) => parseEventsJsonl(await engine().call('runEvents', { id })).events;
  let stopSet = false;
  return {
    runs: [],
    overlay: [],
    ablation: null,
    error: null,

    refresh: () => attempt(async () => set({ runs: await engine().call('listRuns', {}) })),

    toggle: (id) =>
      attempt(async () => {
        if (get().overlay.some((r) => r.id === id)) return set({ overlay: get().overlay.filter((r) => r.id !== id) });
        // On the overlay at once (the box shows the click), its curves as soon as its events are read.
        const run = get().runs.find((r) => r.id === id);
        set({ overlay: [...get().overlay, { id, name: run?.name ?? id, events: [] }] });
        try {
          const read = await events(id);
          set({ overlay: get().overlay.map((r) => (r.id === id ? { ...r, events: read } : r)) });
        } catch (e) {
          set({ overlay: get().overlay.filter((r) => r.id !== id) });
          throw e;
        }
      }),

    rename: (id, name) =>
      attempt(async () => {
        set({ runs: await engine().call('renameRun', { id, name }) });
        set({ overlay: get().overlay.map((r) => (r.id === id ? { ...r, name: name.trim() } : r)) });
      }),

    remove: (id) =>
      attempt(async () => {
        set({ runs: await engine().call('deleteRun', { id }), overlay: get().overlay.filter((r) => r.id !== id) });
        void useStudio.getState().refreshCheckpoint();
      }),

    resume: (id) =>
      attempt(async () => {
        const run = get().runs.find((r) => r.id === id);
        if (!run) return;
        await resumeKeptRun(id, useStudio.getState().trainForm.config[run.method].steps, await events(id));
        await get().refresh();
      }),

    open: (file) =>
      attempt(async () => {
        const text = await file.text();
        const parsed = parseEventsJsonl(text);
        if (parsed.events.length === 0) throw new Error(`${file.name}: no training events${parsed.errors[0] ? ` (${parsed.errors[0]})` : ''}`);
        const sft = parsed.events.some((e) => e.type === 'sft-step');
        const steps = parsed.events.reduce((n, e) => (e.type === 'step' || e.type === 'sft-step' ? Math.max(n, e.step) : n), 0);
        const name = file.name.replace(/\.jsonl$/, '');
        const id = await engine().call('importRun', { name, events: text, meta: { method: sft ? 'sft' : 'grpo', model: 'a CLI run', data: file.name, steps } });
        await get().refresh();
        set({ overlay: [...get().overlay, { id, name, events: parsed.events }] });
        if (parsed.errors.length > 0) set({ error: `${file.name}: ${parsed.errors.length} lines left out (${parsed.errors[0]})` });
      }),

    download: (id, format) =>
      attempt(async () => {
        const text = await engine().call('runEvents', { id });
        const name = fileName(get().runs.find((r) => r.id === id)?.name ?? id);
        if (format === 'jsonl') saveBlob(`${name}.events.jsonl`, new Blob([text], { type: 'application/x-ndjson' }));
        else saveBlob(`${name}.csv`, new Blob([eventsCsv(parseEventsJsonl(text).events)], { type: 'text/csv' }));
      }),

    runAblation: (setId) =>
      attempt(async () => {
        const ablation = ABLATIONS.find((a) => a.id === setId);
        if (!ablation || get().ablation) return;
        stopSet = false;
        const base = useStudio.getState().trainForm;
        const before = new Set(get().runs.map((r) => r.id));
        try {
          for (const [i, v] of ablation.variants.entries()) {
            if (stopSet) break;
            set({ ablation: { id: setId, variant: i, of: ablation.variants.length } });
            const outcome = await runNamed(patchForm(base, v.patch), `${ablation.label}: ${v.name}`, v.continues ? 'continue' : 'new');
            if (outcome !== 'done') break;
          }
        } finally {
          set({ ablation: null });
          await get().refresh();
        }
        // The set's runs land overlaid, in the order they ran.
        const fresh = get().runs.filter((r) => !before.has(r.id));
        set({ overlay: await Promise.all(fresh.map(async (r) => ({ id: r.id, name: r.name, events: await events(r.id) }))) });
      }),

    stopAblation() {
      stopSet = true;
      useStudio.getState().stopTraining();
    },
  };
});
