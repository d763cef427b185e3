// onnxruntime-web as a second inference backend: a causal LM ONNX graph with a KV cache (ours from
// src/onnx/export.ts, or an onnx-community export), run step by step with the cache kept in the session's
// memory (GPU buffers on the WebGPU EP). Browser- and Node-safe; Node's GPU setup is in ort-node.ts.

// The full build: its WebGPU EP (JSEP) and WASM EP, in the browser and (unlike the default Node build) in Node.
import * as ort from 'onnxruntime-web/all';
import { f16BitsToF32 } from '../gpu/half.ts';
import type { LoadedModel } from '../model/source.ts';
import { exportOnnxGraph, joinChunks, onnxFileName, type OnnxExportOptions } from './export.ts';
import { kvInputName, kvOutputName } from './qwen2-graph.ts';

export type OrtBackend = 'webgpu' | 'wasm';

export class OrtModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrtModelError';
  }
}

/** What a graph must look like to be run as a causal LM with a KV cache. */
export interface CausalLmSignature {
  layers: number;
  kvHeads: number;
  headDim: number;
  kvType: 'float32' | 'float16';
  hasPositionIds: boolean;
  /** our graphs' optional `num_logits_to_keep` input */
  hasLogitsToKeep: boolean;
}

type Meta = readonly ort.InferenceSession.ValueMetadata[];

/**
 * Checks the session's inputs and outputs against a causal LM with KV cache; `where` names the file.
 * `fallback` supplies kv heads / head dim when the graph leaves those dimensions symbolic.
 */
export function causalLmSignature(inputs: Meta, outputs: Meta, where: string, fallback?: { kvHeads: number; headDim: number }): CausalLmSignature {
  const inNames = new Set(inputs.map((m) => m.name));
  const outNames = new Set(outputs.map((m) => m.name));
  const missing = ['input_ids', 'attention_mask', kvInputName(0, 'key'), kvInputName(0, 'value')].filter((n) => !inNames.has(n));
  if (!outNames.has('logits')) missing.push('output logits');
  if (missing.length > 0) {
    throw new OrtModelError(
      `${where} is not a causal language model with a KV cache: missing ${missing.join(', ')} ` +
        `(it has inputs ${[...inNames].join(', ') || 'none'}; outputs ${[...outNames].join(', ') || 'none'})`,
    );
  }
  let layers = 0;
  while (inNames.has(kvInputName(layers, 'key'))) layers++;
  const known = new Set(['input_ids', 'attention_mask', 'position_ids', 'num_logits_to_keep']);
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value'] as const) {
      if (!inNames.has(kvInputName(l, kind))) throw new OrtModelError(`${where}: input ${kvInputName(l, kind)} is missing`);
      if (!outNames.has(kvOutputName(l, kind))) throw new OrtModelError(`${where}: output ${kvOutputName(l, kind)} is missing (needed to continue the KV cache)`);
      known.add(kvInputName(l, kind));
    }
  }
  const extra = [...inNames].filter((n) => !known.has(n));
  if (extra.length > 0) throw new OrtModelError(`${where}: unexpected inputs ${extra.join(', ')} for a causal language model with a KV cache`);
  const kv = inputs.find((m) => m.name === kvInputName(0, 'key'));
  if (!kv?.isTensor || (kv.type !== 'float32' && kv.type !== 'float16')) {
    throw new OrtModelError(`${where}: ${kvInputName(0, 'key')} must be a float32 or float16 tensor`);
  }
  const shape = kv.shape;
  const dim = (i: number, name: 'kvHeads' | 'headDim'): number => {
    if (typeof shape[i] === 'number') return shape[i] as number;
    if (fallback) return fallback[name];
    throw new OrtModelError(`${where}: ${kvInputName(0, 'key')} has no fixed ${name === 'kvHeads' ? 'kv-head' : 'head-dim'} size (dimension ${i})`);
  };
  if (shape.length !== 4) throw new OrtModelError(`${where}: ${kvInputName(0, 'key')} must be 4-D [batch, kv_heads, past, head_dim], has ${shape.length} dimensions`);
  return {
    layers,
    kvHeads: dim(1, 'kvHeads'),
    headDim: dim(3, 'headDim'),
    kvType: kv.type,
    hasPositionIds: inNames.has('position_ids'),
    hasLogitsToKeep: inNames.has('num_logits_to_keep'),
  };
}

/** Why `backend` cannot start here (null: it can), naming the missing capability. */
export function ortCapabilityProblem(backend: OrtBackend, threads: number, g: { navigator?: { gpu?: unknown }; SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean } = globalThis): string | null {
  if (backend === 'webgpu' && !g.navigator?.gpu) return 'onnxruntime-web (webgpu) needs WebGPU (navigator.gpu), which this environment does not offer';
  if (backend === 'wasm' && threads > 1 && (g.SharedArrayBuffer === undefined || g.crossOriginIsolated === false)) {
    return `onnxruntime-web (wasm) with ${threads} threads needs SharedArrayBuffer, which needs a cross-origin-isolated page (COOP/COEP headers); use 1 thread`;
  }
  return null;
}

export interface OrtLoadOptions {
  backend: OrtBackend;
  /** the file's name in error messages */
  where: string;
  /** external data files the graph refers to (their `location`), with their bytes */
  externalData?: { path: string; data: Uint8Array }[];
  fallback?: { kvHeads: number; headDim: number };
}

/** The cache after a forward: per layer key/value tensors [batch, kvHeads, length, headDim]. */
export interface OrtKvState {
  tensors: Record<string, ort.Tensor>;
  batch: number;
  length: number;
  /** attention mask so far, row-major [batch, length] */
  mask: number[];
  /** next position id per row */
  nextPosition: number[];
}

export interface OrtForwardResult {
  /** float32 [batch, rows, vocab]: the last `rows` positions of each sequence */
  logits: Float32Array;
  rows: number;
  state: OrtKvState;
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);

export class OrtCausalLm {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly signature: CausalLmSignature,
    readonly backend: OrtBackend,
    readonly where: string,
  ) {}

  /** Creates the session (this compiles the graph) and checks its signature; a failure releases it. */
  static async create(model: Uint8Array, opts: OrtLoadOptions): Promise<OrtCausalLm> {
    const problem = ortCapabilityProblem(opts.backend, ort.env.wasm.numThreads ?? 1);
    if (problem) throw new OrtModelError(`${opts.where}: ${problem}`);
    let session: ort.InferenceSession;
    const kvOnGpu = opts.backend === 'webgpu';
    try {
      session = await ort.InferenceSession.create(model, {
        executionProviders: [opts.backend],
        externalData: opts.externalData,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3, // errors only: not the note that shape ops run on the CPU
        // The KV cache stays in GPU buffers between steps on the WebGPU EP (only logits are read back).
        preferredOutputLocation: kvOnGpu ? 'gpu-buffer' : 'cpu',
      });
    } catch (e) {
      throw new OrtModelError(`${opts.where}: onnxruntime-web (${opts.backend}) could not load the model: ${(e as Error).message}`);
    }
    try {
      const signature = causalLmSignature(session.inputMetadata, session.outputMetadata, opts.where, opts.fallback);
      return new OrtCausalLm(session, signature, opts.backend, opts.where);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /** An empty cache for `batch` sequences. */
  emptyState(batch: number): OrtKvState {
    const { layers, kvHeads, headDim, kvType } = this.signature;
    const tensors: Record<string, ort.Tensor> = {};
    for (let l = 0; l < layers; l++) {
      for (const kind of ['key', 'value'] as const) {
        const data = kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
        tensors[kvInputName(l, kind)] = new ort.Tensor(kvType, data, [batch, kvHeads, 0, headDim]);
      }
    }
    return { tensors, batch, length: 0, mask: [], nextPosition: Array(batch).fill(0) };
  }

  /**
   * Runs `ids` (row-major [batch, seq]; `valid[b·seq + t]` = 0 marks left padding) after the cache `state`,
   * returning logits for the last `keep` positions (every position when 0) and the grown cache. The input
   * state's tensors are released.
   */
  async forward(state: OrtKvState, ids: number[], valid: number[], keep: number): Promise<OrtForwardResult> {
    const B = state.batch;
    const S = ids.length / B;
    if (!Number.isInteger(S) || S < 1 || valid.length !== ids.length) throw new OrtModelError('forward: ids must be a [batch, seq] block with a validity flag each');
    const T = state.length + S;
    const mask: number[] = [];
    const positions: number[] = [];
    const nextPosition = [...state.nextPosition];
    for (let b = 0; b < B; b++) {
      mask.push(...state.mask.slice(b * state.length, (b + 1) * state.length), ...valid.slice(b * S, (b + 1) * S));
      for (let t = 0; t < S; t++) {
        positions.push(nextPosition[b]);
        if (valid[b * S + t]) nextPosition[b]++;
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      ...state.tensors,
      input_ids: int64(ids, [B, S]),
      attention_mask: int64(mask, [B, T]),
    };
    if (this.signature.hasPositionIds) feeds.position_ids = int64(positions, [B, S]);
    const rows = keep > 0 && keep < S ? keep : S;
    if (this.signature.hasLogitsToKeep) feeds.num_logits_to_keep = int64([rows], []);
    const out = await this.session.run(feeds);
    for (const t of Object.values(state.tensors)) t.dispose();
    const tensors: Record<string, ort.Tensor> = {};
    for (let l = 0; l < this.signature.layers; l++) {
      for (const kind of ['key', 'value'] as const) tensors[kvInputName(l, kind)] = out[kvOutputName(l, kind)];
    }
    const logits = await readLogits(out.logits, rows);
    return { logits, rows, state: { tensors, batch: B, length: T, mask, nextPosition } };
  }

  /** Frees a cache (GPU buffers on the WebGPU EP). */
  releaseState(state: OrtKvState): void {
    for (const t of Object.values(state.tensors)) t.dispose();
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** onnxruntime-web on our own export of a loaded model (the graph of qwen2-graph.ts), external data passed along. */
export function sessionOfExport(loaded: LoadedModel, backend: OrtBackend, opts: OnnxExportOptions = { dtype: 'f32' }): Promise<OrtCausalLm> {
  const { onnx, externalData } = exportOnnxGraph(loaded, opts);
  const data = externalData && { path: `${onnxFileName(opts.dtype).slice('onnx/'.length)}_data`, data: joinChunks(externalData) };
  return OrtCausalLm.create(onnx, { backend, where: `${loaded.source} (ONNX export)`, externalData: data ? [data] : undefined });
}

/** The last `rows` positions of logits [B, S, V] as float32 (float16 graphs converted). */
async function readLogits(t: ort.Tensor, rows: number): Promise<Float32Array> {
  const [B, S, V] = t.dims;
  const data = (t.location === 'cpu' ? t.data : await t.getData(true)) as Float32Array | Uint16Array;
  t.dispose();
  const out = new Float32Array(B * rows * V);
  for (let b = 0; b < B; b++) {
    const from = (b * S + (S - rows)) * V;
    if (data instanceof Float32Array) out.set(data.subarray(from, from + rows * V), b * rows * V);
    else for (let i = 0; i < rows * V; i++) out[b * rows * V + i] = f16BitsToF32(data[from + i]);
  }
  return out;
}
