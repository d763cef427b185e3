// Qwen2 (Qwen2.5) as an ONNX graph with a KV cache, in the layout transformers.js and onnxruntime-web load:
//   inputs  input_ids, attention_mask, position_ids [batch, seq] (int64), past_key_values.{i}.key/.value
//           [batch, kv_heads, past, head_dim]
//   outputs logits [batch, seq, vocab] (float32), present.{i}.key/.value [batch, kv_heads, past + seq, head_dim]
// Standard ai.onnx ops only (opset 17), all of which onnxruntime-web's WebGPU and WASM providers run:
// RMSNorm, rotary embedding and grouped-query attention are spelled out, like the model in src/model/model.ts.
// Activations are float32, or float16 for an f16 export (RMSNorm then reduces in float32).

import type { Qwen2Config } from '../model/config.ts';
import type { TensorView } from '../model/safetensors.ts';
import { toF16Bits, toFloat32 } from '../model/safetensors.ts';
import { GraphBuilder, type ElemType } from './graph-builder.ts';

export type OnnxDtype = 'f32' | 'f16';

export interface Qwen2GraphOptions {
  dtype: OnnxDtype;
  /**
   * Adds a scalar int64 input `num_logits_to_keep`: logits only for that many last positions (prefill
   * reads one row instead of seq × vocab). Off for exports, so that the inputs are exactly the standard ones.
   */
  logitsToKeep?: boolean;
}

export const OPSET = 17;

/** Graph input/output names, shared with the runtime side (src/onnx/ort-model.ts). */
export const kvInputName = (layer: number, kind: 'key' | 'value') => `past_key_values.${layer}.${kind}`;
export const kvOutputName = (layer: number, kind: 'key' | 'value') => `present.${layer}.${kind}`;

type Lookup = (name: string) => TensorView;

export function buildQwen2Graph(cfg: Qwen2Config, get: Lookup, opts: Qwen2GraphOptions): GraphBuilder {
  const g = new GraphBuilder();
  const A: ElemType = opts.dtype === 'f16' ? 'float16' : 'float32';
  const { numHeads: H, numKvHeads: KVH, headDim: hd, numLayers: L, vocabSize: V } = cfg;
  const G = H / KVH;

  // Weights: matrices transposed to [in, out] for MatMul; norms and biases as vectors.
  const added = new Set<string>();
  const vector = (name: string) => {
    if (!added.has(name)) g.weight(name, A, get(name).shape, A === 'float16' ? toF16Bits(get(name)) : toFloat32(get(name)));
    added.add(name);
    return name;
  };
  const matrixT = (name: string) => {
    const t = get(name);
    const [rows, cols] = t.shape;
    const src = A === 'float16' ? toF16Bits(t) : toFloat32(t);
    const dst = A === 'float16' ? new Uint16Array(src.length) : new Float32Array(src.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
    return g.weight(`${name.replace(/\.weight$/, '')}.T`, A, [cols, rows], dst);
  };

  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past = Array.from({ length: L }, (_, l) => ({
    k: g.input(kvInputName(l, 'key'), A, ['batch_size', KVH, 'past_sequence_length', hd]),
    v: g.input(kvInputName(l, 'value'), A, ['batch_size', KVH, 'past_sequence_length', hd]),
  }));
  const keep = opts.logitsToKeep ? g.input('num_logits_to_keep', 'int64', []) : null;

  const axes = (...a: number[]) => g.ints(a);
  const toA = (x: string) => (A === 'float32' ? x : g.op('Cast', [x], { to: 10 }));

  // Rotary tables for these positions: cos/sin of pos · θ^(−2j/hd), duplicated over both halves → [B, 1, S, hd].
  const invFreq = new Float32Array(hd / 2).map((_, j) => 1 / Math.pow(cfg.ropeTheta, (2 * j) / hd));
  const pos = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: 1 }), axes(-1)]);
  const freqs = g.op('Mul', [pos, g.weight('rope.inv_freq', 'float32', [hd / 2], invFreq)]);
  const angles = g.op('Concat', [freqs, freqs], { axis: -1 });
  const cos = toA(g.op('Unsqueeze', [g.op('Cos', [angles]), axes(1)]));
  const sin = toA(g.op('Unsqueeze', [g.op('Sin', [angles]), axes(1)]));
  const halves = g.ints([hd / 2, hd / 2]);
  const rotate = (x: string) => {
    const [x1, x2] = g.opN('Split', [x, halves], 2, { axis: -1 });
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };

  // Attention bias [B, 1, 1, S, T]: 0 where key j ≤ the query's absolute index and attention_mask[j] = 1,
  // a large negative otherwise. Query i of this call sits at absolute index T − S + i.
  const total = g.op('Cast', [g.op('Squeeze', [g.op('Shape', [attentionMask], { start: 1, end: 2 }), axes(0)])], { to: 1 });
  const seq = g.op('Cast', [g.op('Squeeze', [g.op('Shape', [inputIds], { start: 1, end: 2 }), axes(0)])], { to: 1 });
  const one = g.floats([1], 'float32', []);
  const keyIndex = g.op('Unsqueeze', [g.op('Range', [g.floats([0], 'float32', []), total, one]), axes(0)]); // [1, T]
  const firstQuery = g.op('Add', [g.op('Sub', [total, seq]), one]);
  const queryLimit = g.op('Unsqueeze', [g.op('Range', [firstQuery, g.op('Add', [total, one]), one]), axes(1)]); // [S, 1]: index + 1
  const causal = g.op('Less', [keyIndex, queryLimit]); // [S, T]
  const padding = g.op('Unsqueeze', [g.op('Greater', [g.op('Cast', [attentionMask], { to: 1 }), g.floats([0.5], 'float32', [])]), axes(1, 2, 3)]);
  const zero = g.floats([0], A, []);
  const negative = g.floats([A === 'float16' ? -65504 : -3.4028234663852886e38], A, []);
  const bias = g.op('Where', [padding, g.op('Where', [causal, zero, negative]), negative]);

  const rmsnorm = (x: string, weightName: string) => {
    const xf = A === 'float32' ? x : g.op('Cast', [x], { to: 1 });
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [xf, xf])], { axes: [-1], keepdims: 1 });
    const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.floats([cfg.rmsNormEps], 'float32', [])])]);
    return g.op('Mul', [toA(g.op('Div', [xf, rms])), vector(weightName)]);
  };
  const heads = (x: string, n: number) => g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, n, hd])])], { perm: [0, 2, 1, 3] }); // [B, n, S, hd]
  const scale = g.floats([1 / Math.sqrt(hd)], A, []);

  let x = g.op('Gather', [vector('model.embed_tokens.weight'), inputIds]); // [B, S, D]
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const linear = (input: string, proj: string, withBias = false) => {
      const y = g.op('MatMul', [input, matrixT(`${p}.${proj}.weight`)]);
      return withBias ? g.op('Add', [y, vector(`${p}.${proj}.bias`)]) : y;
    };

    // Attention: queries grouped per kv head ([B, KVH, G, S, hd]) so that K and V broadcast over the group.
    const h = rmsnorm(x, `${p}.input_layernorm.weight`);
    const q = rotate(heads(linear(h, 'self_attn.q_proj', true), H));
    const k = rotate(heads(linear(h, 'self_attn.k_proj', true), KVH));
    const v = heads(linear(h, 'self_attn.v_proj', true), KVH);
    const keys = g.op('Concat', [past[l].k, k], { axis: 2 }, kvOutputName(l, 'key')); // [B, KVH, T, hd]
    const values = g.op('Concat', [past[l].v, v], { axis: 2 }, kvOutputName(l, 'value'));
    const qGrouped = g.op('Reshape', [g.op('Mul', [q, scale]), g.ints([0, KVH, G, -1, hd])]);
    const keysT = g.op('Transpose', [g.op('Unsqueeze', [keys, axes(2)])], { perm: [0, 1, 2, 4, 3] }); // [B, KVH, 1, hd, T]
    const scores = g.op('Add', [g.op('MatMul', [qGrouped, keysT]), bias]); // [B, KVH, G, S, T]
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), g.op('Unsqueeze', [values, axes(2)])]); // [B, KVH, G, S, hd]
    const merged = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [context, g.ints([0, H, -1, hd])])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, H * hd])]);
    x = g.op('Add', [x, linear(merged, 'self_attn.o_proj')]);

    // MLP: down(silu(gate(h)) · up(h)).
    const h2 = rmsnorm(x, `${p}.post_attention_layernorm.weight`);
    const gate = linear(h2, 'mlp.gate_proj');
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), linear(h2, 'mlp.up_proj')]);
    x = g.op('Add', [x, linear(act, 'mlp.down_proj')]);
  }

  let final = rmsnorm(x, 'model.norm.weight');
  if (keep) final = g.op('Slice', [final, g.op('Neg', [g.op('Unsqueeze', [keep, axes(0)])]), g.ints([2 ** 53 - 1]), axes(1)]);
  const lmHead = cfg.tieWordEmbeddings
    ? g.op('Transpose', [vector('model.embed_tokens.weight')], { perm: [1, 0] })
    : matrixT('lm_head.weight');
  if (A === 'float32') g.op('MatMul', [final, lmHead], {}, 'logits');
  else g.op('Cast', [g.op('MatMul', [final, lmHead])], { to: 1 }, 'logits');

  g.output('logits', 'float32', ['batch_size', keep ? 'logits_length' : 'sequence_length', V]);
  for (let l = 0; l < L; l++) {
    for (const kind of ['key', 'value'] as const) g.output(kvOutputName(l, kind), A, ['batch_size', KVH, 'total_sequence_length', hd]);
  }
  return g;
}
