// Where a model's files come from (Hugging Face Hub, a URL, a picked folder) and the one loader that turns
// them into a validated { config, tensors, tokenizer files }. Browser-safe: Node folders are in source-node.ts.
//
// Every check happens here, once, for every source: config fields (config.ts), safetensors structure
// (safetensors.ts), and that the weights are exactly the tensors the config implies, with the right shapes
// and float dtypes. The safetensors header is checked as soon as its bytes arrive, so a wrong checkpoint
// fails before a gigabyte is downloaded.

import { expectedTensors, parseQwen2Config, type Qwen2Config } from './config.ts';
import { fetchFailureReason, httpError } from '../util/fetch.ts';
import { firstNonFinite, headerSize, parseHeader, parseSafetensors, type TensorView } from './safetensors.ts';

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

export interface OpenedFile {
  /** Expected byte count (Content-Length, File.size): a hint for progress and preallocation. */
  size: number | undefined;
  stream: ReadableStream<Uint8Array>;
  /** Keeps the complete, validated bytes for next time (the Hub source's Cache Storage). */
  save?: (bytes: Uint8Array) => Promise<void>;
}

export interface ModelSource {
  /** Short name for the UI, e.g. "Qwen/Qwen2.5-0.5B-Instruct". */
  label: string;
  /** Full location of a file (URL or path), used in every error message. */
  where(file: string): string;
  /** The file as a byte stream, or null when the source has no such file. */
  open(file: string, signal?: AbortSignal): Promise<OpenedFile | null>;
}

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number | undefined;
  /** what loaded/total count (default bytes) */
  unit?: 'bytes' | 'pipelines';
}

export interface LoadOptions {
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
}

export interface LoadedModel {
  source: string;
  config: Qwen2Config;
  /** Exactly the tensors of expectedTensors(config), in that order; views into the downloaded file bytes. */
  tensors: Map<string, TensorView>;
  tokenizerJson?: object;
  tokenizerConfig?: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------
// Sources

export const HF_BASE_URL = 'https://huggingface.co';
const CACHE_NAME = 'tool-n1-models-v1';

export interface HubOptions {
  /** Default https://huggingface.co; tests point it at a local server with the same URL layout. */
  baseUrl?: string;
  revision?: string;
  /** Where downloads are kept; defaults to the browser's Cache Storage when it exists, null disables. */
  cache?: CacheStorage | null;
}

/** A Hub repo by id: <baseUrl>/<repo>/resolve/<revision>/<file>, cached so a reload does not download again. */
export function hubSource(repo: string, options: HubOptions = {}): ModelSource {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new ModelLoadError(`"${repo}" is not a Hub repo id like "Qwen/Qwen2.5-0.5B-Instruct"`);
  const base = (options.baseUrl ?? HF_BASE_URL).replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const cache = options.cache !== undefined ? options.cache : (globalThis.caches ?? null);
  return httpSource(repo, (file) => `${base}/${repo}/resolve/${revision}/${file}`, cache);
}

/** Files under a base URL, e.g. a model served next to the app. Not cached beyond the browser's HTTP cache. */
export function urlSource(baseUrl: string, label = baseUrl): ModelSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return httpSource(label, (file) => base + file, null);
}

/** The tiny default model the app ships in public/models/tiny/ (Node: embeddedDirSource in source-node.ts). */
export function embeddedSource(): ModelSource {
  const appBase = import.meta.env?.BASE_URL ?? '/'; // Vite's base path; absent outside Vite
  return urlSource(`${appBase}models/tiny/`, 'embedded tiny model');
}

function httpSource(label: string, urlOf: (file: string) => string, cache: CacheStorage | null): ModelSource {
  return {
    label,
    where: urlOf,
    async open(file, signal) {
      const url = urlOf(file);
      const store = cache ? await cache.open(CACHE_NAME) : null;
      const hit = await store?.match(url);
      if (hit?.body) return { size: contentLength(hit), stream: hit.body };

      let res: Response;
      try {
        res = await fetch(url, { signal });
      } catch (e) {
        if (signal?.aborted) throw e;
        throw new ModelLoadError(`${url}: ${fetchFailureReason(e)}`);
      }
      if (res.status === 404) return null;
      if (!res.ok || !res.body) {
        const hint = res.status === 401 || res.status === 403 ? ' (repo not found, private or gated: the app cannot log in)' : '';
        throw new ModelLoadError(`${url}: ${httpError(url, res, hint).reason}`);
      }
      const save = store
        ? async (bytes: Uint8Array) => {
            const headers = { 'content-length': String(bytes.length) };
            await store.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers })); // never shared memory
          }
        : undefined;
      return { size: contentLength(res), stream: res.body, save };
    },
  };
}

function contentLength(res: Response): number | undefined {
  const n = Number(res.headers.get('content-length') ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Files the user picked (a webkitdirectory <input> gives a FileList); matched by name, shallowest first. */
export function filesSource(files: Iterable<File> | ArrayLike<File>, label?: string): ModelSource {
  const path = (f: File) => f.webkitRelativePath || f.name; // "folder/sub/name" when picked as a folder
  const byName = new Map<string, File>();
  for (const f of Array.from(files)) {
    const seen = byName.get(f.name);
    if (!seen || path(f).split('/').length < path(seen).split('/').length) byName.set(f.name, f);
  }
  // Files in subfolders by their path inside the picked folder too (an ONNX folder's onnx/model.onnx).
  const byPath = new Map(Array.from(files, (f) => [path(f).split('/').slice(1).join('/'), f] as const));
  const first = byName.values().next().value;
  const folder = label ?? (first && path(first).includes('/') ? path(first).split('/')[0] : 'picked files');
  return {
    label: folder,
    where: (file) => `${folder}/${file}`,
    async open(file) {
      const f = file.includes('/') ? byPath.get(file) : byName.get(file);
      return f ? { size: f.size, stream: f.stream() } : null;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reading

/**
 * Reads a stream to the end, reporting progress. `inspect` sees the growing prefix after every chunk until
 * it returns true (the safetensors header check). The size hint preallocates; if the stream turns out
 * longer (a compressed transfer whose Content-Length counted compressed bytes) it falls back to chunks.
 */
export async function readStream(
  file: string,
  opened: OpenedFile,
  opts: LoadOptions,
  inspect?: (prefix: Uint8Array) => boolean,
): Promise<Uint8Array> {
  const reader = opened.stream.getReader();
  let buf = opened.size !== undefined ? new Uint8Array(opened.size) : null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let pendingInspect = inspect; // cleared once it has seen enough
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      if (buf && loaded + value.length > buf.length) {
        chunks.push(buf.subarray(0, loaded));
        buf = null;
      }
      if (buf) buf.set(value, loaded);
      else chunks.push(value);
      loaded += value.length;
      opts.onProgress?.({ file, loaded, total: opened.size });
      if (pendingInspect?.(buf ? buf.subarray(0, loaded) : concat(chunks, loaded))) pendingInspect = undefined;
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  opts.signal?.throwIfAborted();
  return buf ? buf.subarray(0, loaded) : concat(chunks, loaded);
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A whole file's bytes, or undefined when the source does not have it. */
export async function readFileBytes(source: ModelSource, file: string, opts: LoadOptions = {}): Promise<Uint8Array | undefined> {
  const opened = await source.open(file, opts.signal);
  if (!opened) return undefined;
  const bytes = await readStream(file, opened, opts);
  await opened.save?.(bytes);
  return bytes;
}

/** A JSON object file, or undefined when the source does not have it. */
export async function readJson(source: ModelSource, file: string, opts: LoadOptions): Promise<Record<string, unknown> | undefined> {
  const opened = await source.open(file, opts.signal);
  if (!opened) return undefined;
  const bytes = await readStream(file, opened, opts);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ModelLoadError(`${source.where(file)}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelLoadError(`${source.where(file)}: not a JSON object`);
  await opened.save?.(bytes);
  return json as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------
// Weights

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

/**
 * Checks one file's tensors against the config: known name, right shape, float dtype. Tensors the config
 * does not imply are an error (usually a config that disagrees with its weights), except a redundant
 * lm_head.weight in a tied checkpoint, which Hugging Face also ignores.
 */
function checkTensors(
  where: string,
  tensors: Iterable<{ name: string; dtype: string; shape: number[] }>,
  expected: Map<string, number[]>,
  config: Qwen2Config,
): void {
  for (const t of tensors) {
    const shape = expected.get(t.name);
    if (!shape) {
      if (t.name === 'lm_head.weight' && config.tieWordEmbeddings) continue;
      throw new ModelLoadError(
        `${where}: tensor "${t.name}" is not part of a Qwen2 model with ${config.numLayers} layers` +
          ` and tie_word_embeddings=${config.tieWordEmbeddings} (does config.json match these weights?)`,
      );
    }
    if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
      throw new ModelLoadError(`${where}: tensor "${t.name}" has shape [${t.shape}] but config.json implies [${shape}]`);
    }
    if (!FLOAT_DTYPES.has(t.dtype)) {
      throw new ModelLoadError(`${where}: tensor "${t.name}" has dtype ${t.dtype}; weights must be F32, F16 or BF16`);
    }
  }
}

/** One past the highest `model.layers.N` index among the names: the layers some weights hold. */
function layersIn(names: Iterable<string>): number {
  let layers = 0;
  for (const name of names) {
    const m = /^model\.layers\.(\d+)\./.exec(name);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  return layers;
}

/** The config's layer count against the weights' names, before anything is allocated per layer. */
function checkLayerCount(where: string, names: Iterable<string>, config: Qwen2Config): void {
  const layers = layersIn(names);
  if (layers !== config.numLayers) {
    throw new ModelLoadError(`${where}: holds ${layers} layers but config.json says num_hidden_layers=${config.numLayers} (does config.json match these weights?)`);
  }
}

type TensorCheck = (tensors: { name: string; dtype: string; shape: number[] }[]) => void;

/** Reads one safetensors file, failing on its header (`check`) before the data arrives when it can. */
async function readWeightsFile(where: string, file: string, opened: OpenedFile, check: TensorCheck, opts: LoadOptions): Promise<Map<string, TensorView>> {
  const bytes = await readStream(file, opened, opts, (prefix) => {
    if (prefix.length < 8 || prefix.length < headerSize(prefix, where)) return false;
    check(parseHeader(prefix, where).tensors);
    return true;
  });
  const { tensors } = parseSafetensors(bytes, where);
  check([...tensors.values()]); // also covers files too short for the early check
  await opened.save?.(bytes);
  return tensors;
}

/**
 * The weights from model.safetensors, or else from the shards listed in model.safetensors.index.json
 * ({ "weight_map": { tensor: shard file } }). `from` names the file that promised the tensors.
 */
async function readWeights(
  source: ModelSource,
  config: Qwen2Config,
  expected: () => Map<string, number[]>,
  opts: LoadOptions,
): Promise<{ tensors: Map<string, TensorView>; from: string }> {
  const single = await source.open('model.safetensors', opts.signal);
  if (single) {
    const where = source.where('model.safetensors');
    const check: TensorCheck = (tensors) => {
      checkLayerCount(where, tensors.map((t) => t.name), config);
      checkTensors(where, tensors, expected(), config);
    };
    return { tensors: await readWeightsFile(where, 'model.safetensors', single, check, opts), from: where };
  }
  const indexFile = 'model.safetensors.index.json';
  const index = await readJson(source, indexFile, opts);
  if (!index) throw new ModelLoadError(`${source.where('model.safetensors')}: not found (and no ${indexFile} either)`);
  const weightMap = index.weight_map as Record<string, unknown> | undefined;
  if (typeof weightMap !== 'object' || weightMap === null || Object.values(weightMap).some((f) => typeof f !== 'string' || f.includes('/'))) {
    throw new ModelLoadError(`${source.where(indexFile)}: "weight_map" must map tensor names to shard file names`);
  }
  checkLayerCount(source.where(indexFile), Object.keys(weightMap), config);
  const tensors = new Map<string, TensorView>();
  for (const shard of new Set(Object.values(weightMap) as string[])) {
    const where = source.where(shard);
    const opened = await source.open(shard, opts.signal);
    if (!opened) throw new ModelLoadError(`${where}: not found (listed in ${indexFile})`);
    for (const [name, t] of await readWeightsFile(where, shard, opened, (ts) => checkTensors(where, ts, expected(), config), opts)) {
      if (weightMap[name] !== shard) throw new ModelLoadError(`${where}: tensor "${name}" is not assigned to this shard by ${indexFile}`);
      tensors.set(name, t);
    }
  }
  return { tensors, from: source.where(indexFile) };
}

// ---------------------------------------------------------------------------------------------------------
// The loader

/** Loads and validates a model from any source. Throws ModelLoadError / ConfigError / SafetensorsError. */
export async function loadModel(source: ModelSource, opts: LoadOptions = {}): Promise<LoadedModel> {
  const configJson = await readJson(source, 'config.json', opts);
  if (!configJson) throw new ModelLoadError(`${source.where('config.json')}: not found`);
  const config = parseQwen2Config(configJson, source.where('config.json'));
  const tokenizerJson = await readJson(source, 'tokenizer.json', opts);
  const tokenizerConfig = await readJson(source, 'tokenizer_config.json', opts);
  const generationConfig = await readJson(source, 'generation_config.json', opts);

  // Built only once the weights' headers agree with the config's layer count (a config can claim 10⁹ layers).
  let expected: Map<string, number[]> | undefined;
  const expectedFor = () => (expected ??= expectedTensors(config));
  const { tensors: found, from } = await readWeights(source, config, expectedFor, opts);
  const tensors = new Map<string, TensorView>();
  for (const [name, shape] of expectedFor()) {
    const t = found.get(name);
    if (!t) throw new ModelLoadError(`${from}: tensor "${name}" [${shape}] is missing (required by config.json)`);
    const bad = firstNonFinite(t);
    if (bad) throw new ModelLoadError(`${t.file}: tensor "${name}" holds ${bad.value} at element ${bad.index}: the weights are corrupt`);
    tensors.set(name, t);
  }
  return { source: source.label, config, tensors, tokenizerJson, tokenizerConfig, generationConfig };
}
