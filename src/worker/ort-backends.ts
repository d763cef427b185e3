// onnxruntime-web beside the engine for the Playground and the Benchmarks: one model per execution provider
// (WebGPU, WASM), either a policy exported here by our own graph writer or an ONNX model folder, decoded with
// the same tokenizer and prompt template as the engine and sampled on the host by sample.wgsl's rules. Also
// the policy's ONNX folder as one download. Runs in the Worker; knows nothing of the page.
import * as ort from 'onnxruntime-web/all';
import type { Qwen2Config } from '../model/config.ts';
import type { BatchGenerator } from '../model/generate.ts';
import { filesSource, hubSource, type LoadedModel, type LoadOptions } from '../model/source.ts';
import { tokenizerForModel, type QwenTokenizer } from '../model/tokenizer.ts';
import { exportOnnxFolder, joinChunks } from '../onnx/export.ts';
import { loadOnnxFolder } from '../onnx/onnx-source.ts';
import { OrtGenerator } from '../onnx/ort-generator.ts';
import { OrtCausalLm, sessionOfExport, type OrtBackend } from '../onnx/ort-model.ts';
import { tarArchive } from '../export/tar.ts';
import type { DownloadFile, OrtModelInfo, OrtSourceSpec, PolicyChoice } from './protocol.ts';

/** What decodes for the Playground and the Benchmarks: our engine's generator or onnxruntime-web's. */
export interface Decoder {
  generator: BatchGenerator;
  tokenizer: QwenTokenizer;
  /** the model as reports name it */
  label: string;
  /** GPU bytes our engine holds (null: onnxruntime-web decodes, its memory is its own) */
  gpuBytes(): number | null;
}

/** A policy on the host: its weights (a LoRA adapter merged) and the Playground model's tokenizer. */
export interface HostPolicy {
  files: LoadedModel;
  tokenizer: QwenTokenizer;
}

export class NoOrtModelError extends Error {}

interface OrtLoaded {
  info: OrtModelInfo;
  generator: OrtGenerator;
  tokenizer: QwenTokenizer;
}

export class OrtBackends {
  private readonly loaded = new Map<OrtBackend, OrtLoaded>();

  /** Creates the new session first: if it fails, the backend keeps the model it had. */
  async load(backend: OrtBackend, source: OrtSourceSpec, policy: (p: PolicyChoice) => Promise<HostPolicy>, opts: LoadOptions): Promise<OrtModelInfo> {
    const t0 = performance.now();
    let lm: OrtCausalLm;
    let tokenizer: QwenTokenizer;
    let label: string;
    let config: Qwen2Config;
    if (source.kind === 'policy') {
      const p = await policy(source.policy);
      // num_logits_to_keep: a prefill reads back only each sequence's last row of logits.
      lm = await sessionOfExport(p.files, backend, { dtype: 'f32', logitsToKeep: true });
      tokenizer = p.tokenizer;
      config = p.files.config;
      label = p.files.source;
    } else {
      const from = source.kind === 'hub' ? hubSource(source.repo.trim()) : filesSource(source.files);
      const folder = await loadOnnxFolder(from, opts);
      tokenizer = await tokenizerForModel({ ...folder, source: from.label });
      opts.signal?.throwIfAborted();
      config = folder.config;
      const fallback = { kvHeads: config.numKvHeads, headDim: config.headDim };
      lm = await OrtCausalLm.create(folder.graph, { backend, where: folder.where, externalData: folder.externalData, fallback });
      label = from.label;
    }
    const info: OrtModelInfo = {
      backend,
      label,
      graph: lm.where,
      layers: lm.signature.layers,
      vocab: config.vocabSize,
      kvType: lm.signature.kvType,
      threads: backend === 'wasm' ? (ort.env.wasm.numThreads ?? 1) : null,
      loadMs: performance.now() - t0,
    };
    // ORT computes the rotary angles in the graph: any position the config allows.
    const generator = new OrtGenerator(lm, config.vocabSize, config.maxPositionEmbeddings);
    await this.loaded.get(backend)?.generator.release();
    this.loaded.set(backend, { info, generator, tokenizer });
    return info;
  }

  decoder(backend: OrtBackend): Decoder {
    const cur = this.loaded.get(backend);
    if (!cur) throw new NoOrtModelError(`no model on onnxruntime-web (${backend}): load one for it in the Playground first`);
    return { generator: cur.generator, tokenizer: cur.tokenizer, label: `${cur.info.label} on onnxruntime-web (${backend})`, gpuBytes: () => null };
  }
}

/** The policy's ONNX folder (export-onnx's layout) as one tar. */
export function onnxDownload(files: LoadedModel, dtype: 'f32' | 'f16'): DownloadFile {
  const dir = `${files.source.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'model'}-onnx`;
  const entries = exportOnnxFolder(files, { dtype }).map((f) => ({ name: `${dir}/${f.path}`, data: joinChunks(f.chunks) }));
  return { name: `${dir}.tar`, blob: new Blob([tarArchive(entries) as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }) };
}
