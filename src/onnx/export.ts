// A loaded Qwen2 model → an ONNX model folder in the layout transformers.js and onnxruntime-web load:
//   onnx/model.onnx (f16: onnx/model_fp16.onnx) [+ .onnx_data], config.json, generation_config.json, tokenizer files.
// Browser-safe: returns the files' bytes; the CLI writes them to disk, the studio offers them as downloads.

import onnxProto from 'onnx-proto';
import type { Qwen2Config } from '../model/config.ts';
import type { LoadedModel } from '../model/source.ts';
import { buildQwen2Graph, OPSET, type OnnxDtype, type Qwen2GraphOptions } from './qwen2-graph.ts';

/** Protocol buffers cannot encode a message of 2 GiB or more. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface ExportFile {
  path: string;
  /** the bytes, in order (external data is written as one chunk per weight) */
  chunks: Uint8Array[];
}

export interface OnnxExportOptions extends Qwen2GraphOptions {
  /** weights outside model.onnx: "auto" when the graph would not fit one protobuf, "never" errors then */
  externalData?: 'auto' | 'always' | 'never';
  /** the limit "auto" and "never" compare against; tests lower it */
  protobufLimit?: number;
}

export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

export const onnxFileName = (dtype: OnnxDtype) => (dtype === 'f16' ? 'onnx/model_fp16.onnx' : 'onnx/model.onnx');

/** The chunks of an export file as one block of bytes (a session's external data, a tar entry). */
export function joinChunks(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.byteLength), 0);
  return out;
}

/** The graph alone as model.onnx bytes (weights inside): what the ORT backend loads directly. */
export function exportOnnxGraph(loaded: LoadedModel, opts: OnnxExportOptions): { onnx: Uint8Array; externalData: Uint8Array[] | null } {
  const get = (name: string) => {
    const t = loaded.tensors.get(name);
    if (!t) throw new OnnxExportError(`${loaded.source}: tensor ${name} missing`);
    return t;
  };
  const graph = buildQwen2Graph(loaded.config, get, opts);
  const limit = opts.protobufLimit ?? PROTOBUF_LIMIT;
  const weightBytes = graph.weights.reduce((n, w) => n + w.bytes.byteLength, 0);
  const mode = opts.externalData ?? 'auto';
  // The graph's own structure is a few hundred KB; 1 MiB of headroom keeps the estimate on the safe side.
  const tooBig = weightBytes + 2 ** 20 > limit;
  if (tooBig && mode === 'never') {
    throw new OnnxExportError(
      `${loaded.source}: the weights take ${(weightBytes / 2 ** 30).toFixed(2)} GiB, over the ${(limit / 2 ** 30).toFixed(2)} GiB ` +
        'a single protobuf (model.onnx) can hold; export with external data (weights in model.onnx_data)',
    );
  }
  const external = mode === 'always' || tooBig;
  const file = onnxFileName(opts.dtype).slice('onnx/'.length);
  const { model, externalChunks } = graph.model(OPSET, 'tool-n1-studio', external ? { file: `${file}_data`, min: 1024 } : undefined);
  const onnx = onnxProto.onnx.ModelProto.encode(model).finish();
  return { onnx, externalData: external ? externalChunks : null };
}

/** config.json for the export: the model's shape in Hugging Face's field names, plus transformers.js hints. */
export function exportConfig(cfg: Qwen2Config, dtype: OnnxDtype, external: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_act: 'silu',
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    vocab_size: cfg.vocabSize,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    use_sliding_window: false,
    torch_dtype: dtype === 'f16' ? 'float16' : 'float32',
    ...extra,
    'transformers.js_config': {
      ...(dtype === 'f16' ? { dtype: 'fp16', kv_cache_dtype: { fp16: 'float16' } } : { dtype: 'fp32' }),
      ...(external ? { use_external_data_format: true } : {}),
    },
  };
}

const json = (value: unknown, indent = 2) => new TextEncoder().encode(JSON.stringify(value, null, indent) + '\n');

/** Every file of the export folder. Tokenizer files are written when the model has them. */
export function exportOnnxFolder(loaded: LoadedModel, opts: OnnxExportOptions): ExportFile[] {
  const { onnx, externalData } = exportOnnxGraph(loaded, opts);
  const modelFile = onnxFileName(opts.dtype);
  const generation = loaded.generationConfig ?? {};
  const ids = pickIds(generation);
  const files: ExportFile[] = [
    { path: modelFile, chunks: [onnx] },
    { path: 'config.json', chunks: [json(exportConfig(loaded.config, opts.dtype, externalData !== null, ids))] },
    { path: 'generation_config.json', chunks: [json({ ...ids, ...generation })] },
  ];
  if (externalData) files.push({ path: `${modelFile}_data`, chunks: externalData });
  if (loaded.tokenizerJson) files.push({ path: 'tokenizer.json', chunks: [json(loaded.tokenizerJson, 0)] });
  if (loaded.tokenizerConfig) files.push({ path: 'tokenizer_config.json', chunks: [json(loaded.tokenizerConfig)] });
  return files;
}

/** bos/eos ids from generation_config.json (the usual home), for config.json too. */
function pickIds(generation: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id']) if (generation[key] !== undefined) out[key] = generation[key];
  return out;
}
