// The playground's engine side: one model at a time (weights, tokenizer, generator) and G sampled
// completions of a question, decoded as they grow. Runs in the Worker; knows nothing of the page.
import type { GpuRuntime } from '../gpu/runtime.ts';
import { Generator } from '../model/generate.ts';
import { instantiateModel } from '../model/instantiate.ts';
import type { Qwen2Model } from '../model/model.ts';
import {
  embeddedSource,
  filesSource,
  hubSource,
  loadModel,
  type LoadedModel,
  type LoadOptions,
  type ModelSource,
} from '../model/source.ts';
import { tokenizerForModel, type QwenTokenizer } from '../model/tokenizer.ts';
import { attachAdapter, loadPeftAdapter, mergeAdapter, type PeftAdapter } from '../model/adapter.ts';
import { playgroundPrompt } from '../toolcall/prompt.ts';
import { OrtBackends, type Decoder, type HostPolicy } from './ort-backends.ts';
import { ortBackendOf, type AdapterInfo, type Completion, type GenerateArgs, type GenerateReport, type InferenceBackend, type ModelInfo, type ModelSourceSpec } from './protocol.ts';

// Decoding every sequence on every step costs more than the step itself for a tiny model, and the page
// cannot show more than a few updates a second anyway; downloads report every 64 KiB chunk.
const NOTICE_MS = 100;

export class NoModelError extends Error {}

/** The model the Worker holds: its files (training re-instantiates from them), weights and generator. */
export interface Loaded {
  spec: ModelSourceSpec;
  source: ModelSource;
  files: LoadedModel;
  model: Qwen2Model;
  generator: Generator;
  tokenizer: QwenTokenizer;
  /** a LoRA adapter attached over the model, with the function that frees it */
  adapter?: { info: AdapterInfo; peft: PeftAdapter; detach(): void };
}

export interface LoadHooks extends LoadOptions {
  /** Called when the previous model's GPU memory is given back. */
  onUnload(): void;
}

export interface GenerateHooks {
  onStart(promptTokens: number): void;
  onStep(step: number, completions: Completion[]): void;
}

export class Playground {
  /** onnxruntime-web's models, one per execution provider, beside (and independent of) the engine's */
  readonly ort = new OrtBackends();
  private current: Loaded | null = null;
  private running = false;
  private stopRequested = false;

  /** Reads and validates the model first; the old one is replaced only once the new one has arrived. */
  async load(rt: GpuRuntime, spec: ModelSourceSpec, hooks: LoadHooks): Promise<ModelInfo> {
    const t0 = performance.now();
    const onProgress = hooks.onProgress && throttle(NOTICE_MS, hooks.onProgress, (p) => p.loaded === p.total);
    const source = sourceOf(spec);
    const loaded = await loadModel(source, { signal: hooks.signal, onProgress });
    const tokenizer = await tokenizerForModel(loaded);
    hooks.signal?.throwIfAborted();
    if (this.current) {
      this.unload(rt);
      hooks.onUnload();
    }
    const model = instantiateModel(rt, loaded);
    const generator = new Generator(model);
    try {
      // Every pipeline generation uses, compiled together now rather than one by one on the first prompt.
      await generator.prepare((done, total) => onProgress?.({ file: 'GPU pipelines', loaded: done, total, unit: 'pipelines' }));
    } catch (e) {
      generator.release();
      model.release();
      throw e;
    }
    this.current = { spec, source, files: loaded, model, generator, tokenizer };
    const c = loaded.config;
    let params = 0;
    for (const t of loaded.tensors.values()) params += t.shape.reduce((a, b) => a * b, 1);
    return {
      label: loaded.source,
      params,
      layers: c.numLayers,
      hidden: c.hiddenSize,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      vocab: c.vocabSize,
      maxPositions: model.maxPositions,
      weightDtype: model.weights.embed.dtype,
      gpuBytes: rt.bytesHeld,
      loadMs: performance.now() - t0,
    };
  }

  /** Attaches a PEFT adapter over the loaded model, replacing the one attached; checked before anything changes. */
  async loadAdapter(rt: GpuRuntime, files: File[]): Promise<AdapterInfo> {
    const cur = this.loaded(rt);
    const source = filesSource(files);
    const adapter = await loadPeftAdapter(source, cur.files.config);
    this.unloadAdapter(rt);
    const info: AdapterInfo = {
      label: source.label, rank: adapter.rank, alpha: adapter.alpha, targets: adapter.targets, pairs: adapter.pairs.length, baseModel: adapter.baseModel,
    };
    cur.adapter = { info, peft: adapter, detach: attachAdapter(rt, cur.model, adapter) };
    return info;
  }

  unloadAdapter(rt: GpuRuntime): boolean {
    const cur = this.loaded(rt);
    if (!cur.adapter) return false;
    cur.adapter.detach();
    cur.adapter = undefined;
    return true;
  }

  /** The loaded model on this runtime; throws NoModelError when there is none. */
  loaded(rt: GpuRuntime): Loaded {
    const cur = this.current;
    if (!cur || cur.model.rt !== rt) throw new NoModelError('no model loaded: load one in the Playground first');
    return cur;
  }

  /** The loaded model's weights on the host, its adapter merged: what an ONNX export of it holds. */
  policy(rt: GpuRuntime): HostPolicy {
    const cur = this.loaded(rt);
    return { files: cur.adapter ? mergeAdapter(cur.files, cur.adapter.peft) : cur.files, tokenizer: cur.tokenizer };
  }

  /** Who decodes on `backend`: the engine's loaded model, or the model loaded on that onnxruntime-web EP. */
  decoder(rt: GpuRuntime, backend: InferenceBackend = 'engine'): Decoder {
    if (backend !== 'engine') return this.ort.decoder(ortBackendOf(backend));
    const cur = this.loaded(rt);
    return {
      generator: cur.generator,
      tokenizer: cur.tokenizer,
      label: cur.adapter ? `${cur.files.source} + LoRA ${cur.adapter.info.label}` : cur.files.source,
      gpuBytes: () => rt.bytesHeld,
    };
  }

  async generate(rt: GpuRuntime, args: GenerateArgs, hooks: GenerateHooks): Promise<GenerateReport> {
    const { tokenizer, generator, gpuBytes } = this.decoder(rt, args.backend);
    const prompt = playgroundPrompt(args.question, args.tools);
    const ids = tokenizer.encode(prompt);
    hooks.onStart(ids.length);

    const snapshot = (tokens: number[][], done: boolean[]): Completion[] =>
      tokens.map((t, g) => ({ text: tokenizer.decode(t), tokens: t.length, finished: done[g] }));
    const notifyStep = throttle(NOTICE_MS, (s: { step: number; tokens: number[][]; done: boolean[] }) =>
      hooks.onStep(s.step, snapshot(s.tokens, s.done)),
    );
    this.running = true;
    this.stopRequested = false;
    const result = await generator
      .generateBatch([ids], {
        n: args.n,
        maxNewTokens: args.maxNewTokens,
        sampling: args.sampling,
        eosIds: tokenizer.eosIds,
        shouldStop: () => this.stopRequested,
        onStep: (step, tokens, done) => notifyStep({ step, tokens, done }),
      })
      .finally(() => (this.running = false));
    return {
      completions: snapshot(result.tokens, result.finished),
      promptTokens: ids.length,
      stopped: this.stopRequested,
      prefillMs: result.prefillMs,
      decodeMs: result.decodeMs,
      prefillTokensPerSec: result.prefillTokensPerSec,
      decodeTokensPerSec: result.decodeTokensPerSec,
      gpuBytes: gpuBytes(),
    };
  }

  /** Asks a running generate to end after its current step; false when none runs. */
  stop(): boolean {
    if (this.running) this.stopRequested = true;
    return this.running;
  }

  /** After a device loss the weights are gone with the device: drop them without touching the GPU. */
  forget(): void {
    this.current = null;
  }

  private unload(rt: GpuRuntime): void {
    this.current?.adapter?.detach();
    this.current?.generator.release();
    this.current?.model.release();
    this.current = null;
    rt.pool.trim(); // the pool keeps released buffers for reuse; give them back to the driver
  }
}

/** fn at most once per `ms`, except for values `always` lets through (a file's last chunk). */
function throttle<T>(ms: number, fn: (x: T) => void, always: (x: T) => boolean = () => false): (x: T) => void {
  let last = -Infinity;
  return (x) => {
    const now = performance.now();
    if (now - last < ms && !always(x)) return;
    last = now;
    fn(x);
  };
}

function sourceOf(spec: ModelSourceSpec): ModelSource {
  switch (spec.kind) {
    case 'embedded':
      return embeddedSource();
    case 'hub':
      return hubSource(spec.repo.trim());
    case 'files':
      return filesSource(spec.files);
  }
}
