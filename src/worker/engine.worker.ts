// The engine Worker: owns the GPU runtime and answers the typed requests of protocol.ts. Running here
// keeps long GPU readbacks and host-side work (tokenising, sampling, rewards) off the UI thread.
import { GpuRuntime } from '../gpu/runtime.ts';
import { GpuDeviceLostError, GpuUnavailableError } from '../gpu/device.ts';
import { bundledShaderSource } from '../gpu/shaders-bundled.ts';
import { runCrossCheck, runSelftest } from './selftest.ts';
import { Benchmarks, type BenchHooks } from './benchmark.ts';
import { NoModelError, Playground } from './playground.ts';
import { NoOrtModelError, onnxDownload, type HostPolicy } from './ort-backends.ts';
import { setUpOrtForBrowser } from '../onnx/ort-browser.ts';
import { Generator } from '../model/generate.ts';
import { Training, type TrainHooks } from './training.ts';
import { opfsShelf } from './run-shelf.ts';
import type { CallName, EngineCalls, EngineError, EngineNotice, EngineRequest, PolicyChoice, WorkerMessage } from './protocol.ts';

// tsconfig mixes the DOM and WebWorker libs, so `self` is typed as a Window; this file runs as a Worker.
const scope = self as unknown as DedicatedWorkerGlobalScope;

function post(msg: WorkerMessage): void {
  scope.postMessage(msg);
}

setUpOrtForBrowser();

let rt: GpuRuntime | null = null;
const playground = new Playground();
const training = new Training(opfsShelf());
const benchmarks = new Benchmarks();
/** The running loadModel's abort switch, for cancelLoad. */
let loadAbort: AbortController | null = null;

function runtime(): GpuRuntime {
  if (!rt) throw new EngineFailure('not-initialized', 'the GPU is not initialised: send init first');
  return rt;
}

class EngineFailure extends Error {
  constructor(readonly code: EngineError['code'], message: string) {
    super(message);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface CallContext {
  /** Posts a notice tied to the current request (streamed progress). */
  notify(notice: DistributiveOmit<EngineNotice, 'kind' | 'id'>): void;
}

type Handlers = { [K in CallName]: (args: EngineCalls[K]['args'], ctx: CallContext) => Promise<EngineCalls[K]['result']> };

const handlers: Handlers = {
  async init() {
    if (rt && !rt.lost) return rt.info;
    if (!navigator.gpu) {
      throw new EngineFailure(
        'no-webgpu',
        'WebGPU is not available in this browser (navigator.gpu is missing in the Worker).',
      );
    }
    const created = await GpuRuntime.create(navigator.gpu, bundledShaderSource);
    created.onLost((e) => {
      if (rt === created) rt = null;
      playground.forget();
      training.forget();
      post({ kind: 'notice', type: 'device-lost', id: null, error: { code: 'device-lost', message: e.message } });
    });
    rt = created;
    return created.info;
  },

  async selftest(_args, ctx) {
    return runSelftest(runtime(), (c) => ctx.notify({ type: 'selftest-case', case: c }));
  },

  async crossCheck({ backend }) {
    return runCrossCheck(runtime(), backend);
  },

  async loadModel({ source }, ctx) {
    const abort = new AbortController();
    loadAbort = abort;
    try {
      return await playground.load(runtime(), source, {
        signal: abort.signal,
        onProgress: (p) => ctx.notify({ type: 'load-progress', ...p }),
        onUnload: () => {
          training.release(); // the trained policy belongs to the model being replaced
          ctx.notify({ type: 'model-unloaded' });
        },
      });
    } catch (e) {
      if (abort.signal.aborted) throw new EngineFailure('cancelled', 'model load cancelled');
      throw e;
    } finally {
      if (loadAbort === abort) loadAbort = null;
    }
  },

  async cancelLoad() {
    loadAbort?.abort();
    return { cancelled: loadAbort !== null };
  },

  async loadAdapter({ files }) {
    return playground.loadAdapter(runtime(), files);
  },

  async unloadAdapter() {
    return { unloaded: playground.unloadAdapter(runtime()) };
  },

  async generate(args, ctx) {
    return playground.generate(runtime(), args, {
      onStart: (promptTokens) => ctx.notify({ type: 'generate-start', promptTokens }),
      onStep: (step, completions) => ctx.notify({ type: 'generate-step', step, completions }),
    });
  },

  async stopGenerate() {
    return { stopping: playground.stop() };
  },

  async startTraining({ config, file, benchFiles, name }, ctx) {
    const r = runtime();
    return training.start(r, trainingBase(r), config, file, trainHooks(ctx), benchFiles, name);
  },

  async continueWithGrpo({ config, file, benchFiles, name }, ctx) {
    const r = runtime();
    return training.continueWithGrpo(r, playground.loaded(r), config, file, trainHooks(ctx), benchFiles, name);
  },

  async resumeTraining({ steps, id }, ctx) {
    const r = runtime();
    return training.resume(r, trainingBase(r), steps, trainHooks(ctx), id);
  },

  async listRuns() {
    return training.runs();
  },

  async runEvents({ id }) {
    return training.runEvents(id);
  },

  async renameRun({ id, name }) {
    await training.renameRun(id, name);
    return training.runs();
  },

  async deleteRun({ id }) {
    await training.deleteRun(id);
    return training.runs();
  },

  async importRun({ name, events, meta }) {
    return training.importRun(name, events, meta);
  },

  async stopTraining() {
    return { stopping: training.stop() };
  },

  async stepThrough({ on }) {
    training.stepThrough.enable(on);
    return { on };
  },

  async stepThroughNext() {
    return { resumed: training.stepThrough.next() };
  },

  async trainingCheckpoint() {
    return training.checkpointInfo();
  },

  async downloadCheckpoint() {
    return training.checkpointFile();
  },

  async exportModel() {
    const r = runtime();
    return training.export(r, playground.loaded(r));
  },

  async exportRun({ engine }) {
    const r = runtime();
    return training.handover(r, playground.loaded(r), engine);
  },

  async exportOnnx({ policy, dtype }) {
    const { files } = await hostPolicy(runtime(), policy);
    return [onnxDownload(files, dtype)];
  },

  async loadOrt({ backend, source }, ctx) {
    const r = runtime();
    const abort = new AbortController();
    loadAbort = abort;
    try {
      return await playground.ort.load(backend, source, (p) => hostPolicy(r, p), {
        signal: abort.signal,
        onProgress: (p) => ctx.notify({ type: 'load-progress', ...p }),
      });
    } catch (e) {
      if (abort.signal.aborted) throw new EngineFailure('cancelled', 'model load cancelled');
      throw e;
    } finally {
      if (loadAbort === abort) loadAbort = null;
    }
  },

  async runBenchmark(args, ctx) {
    const r = runtime();
    const hooks: BenchHooks = {
      onStart: (bench, total, errors) => ctx.notify({ type: 'bench-start', bench, total, errors }),
      onProgress: (p, details) => ctx.notify({ type: 'bench-progress', ...p, details }),
      onDecode: (token, of) => ctx.notify({ type: 'bench-decode', token, of }),
    };
    if (args.model !== 'trained' || (args.backend ?? 'engine') !== 'engine') return benchmarks.run(playground.decoder(r, args.backend), args, hooks);
    // The trained policy decodes with its own generator, freed after.
    const base = playground.loaded(r);
    const generator = new Generator(await training.trainedModel(r, base));
    try {
      return await benchmarks.run({ generator, tokenizer: base.tokenizer, label: `${base.files.source} (trained)`, gpuBytes: () => r.bytesHeld }, args, hooks);
    } finally {
      generator.release();
    }
  },

  async stopBenchmark() {
    return { stopping: benchmarks.stop() };
  },
};

/** The Playground's model (its adapter merged) or the last run's trained policy, on the host. */
async function hostPolicy(r: GpuRuntime, policy: PolicyChoice): Promise<HostPolicy> {
  if (policy === 'loaded') return playground.policy(r);
  const base = playground.loaded(r);
  return { files: await training.trainedFiles(r, base), tokenizer: base.tokenizer };
}

/** Training starts from the base weights, and its KL reference is the loaded model: not with an adapter on it. */
function trainingBase(r: GpuRuntime) {
  const base = playground.loaded(r);
  if (base.adapter) throw new EngineFailure('internal', `the LoRA adapter ${base.adapter.info.label} is attached to the Playground model: remove it to train (training starts from the base weights)`);
  return base;
}

function trainHooks(ctx: CallContext): TrainHooks {
  return {
    onStart: (start) => ctx.notify({ type: 'train-start', ...start }),
    onEvents: (events, prompts) => ctx.notify({ type: 'train-events', events, prompts }),
  };
}

async function handle<K extends CallName>(req: Extract<EngineRequest, { type: K }>): Promise<void> {
  const ctx: CallContext = { notify: (n) => post({ ...n, kind: 'notice', id: req.id } as EngineNotice) };
  const handler = handlers[req.type] as Handlers[K];
  try {
    const result = await handler(req.args, ctx);
    post({ kind: 'reply', id: req.id, type: req.type, result } as WorkerMessage);
  } catch (e) {
    post({ kind: 'failure', id: req.id, error: toEngineError(e) });
  }
}

function toEngineError(e: unknown): EngineError {
  if (e instanceof EngineFailure) return { code: e.code, message: e.message };
  if (e instanceof NoModelError || e instanceof NoOrtModelError) return { code: 'no-model', message: e.message };
  if (e instanceof GpuDeviceLostError) return { code: 'device-lost', message: e.message };
  // acquireDevice throws this for a missing navigator.gpu too, but init checks that first.
  if (e instanceof GpuUnavailableError) return { code: 'no-adapter', message: e.message };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

// One call at a time, in arrival order: they share one device and one command encoder. Cancel and stop
// only flip a switch the running call checks, so they skip the queue (behind it they would come too late);
// reading the saved checkpoint or the kept runs touches no GPU, so it need not wait for a training run to end.
let queue: Promise<void> = Promise.resolve();
const IMMEDIATE: ReadonlySet<CallName> = new Set([
  'cancelLoad',
  'stopGenerate',
  'stopTraining',
  'stepThrough',
  'stepThroughNext',
  'stopBenchmark',
  'trainingCheckpoint',
  'downloadCheckpoint',
  'listRuns',
  'runEvents',
  'renameRun',
  'importRun',
]);

scope.onmessage = (ev: MessageEvent<EngineRequest>) => {
  if (IMMEDIATE.has(ev.data.type)) void handle(ev.data);
  else queue = queue.then(() => handle(ev.data));
};
