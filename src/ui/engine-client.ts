// The UI side of the engine Worker: typed, promise-returning calls and a notice subscription.
// Nothing here touches the GPU; see src/worker/protocol.ts for the messages.
import type { CallName, EngineCalls, EngineError, EngineNotice, EngineRequest, WorkerMessage } from '../worker/protocol.ts';

export class EngineCallError extends Error {
  readonly code: EngineError['code'];
  constructor(error: EngineError) {
    super(error.message);
    this.code = error.code;
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: EngineCallError): void;
}

export class EngineClient {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners = new Set<(n: EngineNotice) => void>();

  constructor() {
    // This exact `new Worker(new URL(...), { type: 'module' })` form is what Vite recognises and bundles.
    this.worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    this.worker.onmessage = (ev: MessageEvent<WorkerMessage>) => this.receive(ev.data);
    // A Worker that fails to load or throws at top level would leave every call hanging: fail them instead.
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.failAll({ code: 'internal', message: `engine worker crashed: ${ev.message || 'failed to load'}` });
    };
  }

  call<K extends CallName>(type: K, args: EngineCalls[K]['args']): Promise<EngineCalls[K]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.worker.postMessage({ id, type, args } as EngineRequest);
    });
  }

  /** Subscribes to notices (streamed progress, device loss); returns the unsubscribe function. */
  onNotice(listener: (n: EngineNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll({ code: 'internal', message: 'engine worker terminated' });
  }

  private receive(msg: WorkerMessage): void {
    if (msg.kind === 'notice') {
      for (const l of this.listeners) l(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.kind === 'reply') p.resolve(msg.result);
    else p.reject(new EngineCallError(msg.error));
  }

  private failAll(error: EngineError): void {
    for (const p of this.pending.values()) p.reject(new EngineCallError(error));
    this.pending.clear();
  }
}
