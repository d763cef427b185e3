// An ONNX model folder (ours from export-onnx, or an onnx-community repo on the Hub): onnx/model*.onnx (+ its
// external data), config.json and the tokenizer files, read from any ModelSource (folder, Hub, picked files).
import { parseQwen2Config, type Qwen2Config } from '../model/config.ts';
import { ModelLoadError, readJson, readStream, type LoadOptions, type ModelSource } from '../model/source.ts';

/** Graph files tried in order: full precision first, then half precision (onnx-community's names). */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'onnx/model_fp16.onnx'];

export interface OnnxFolder {
  /** where the graph came from, for messages */
  where: string;
  graph: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
  config: Qwen2Config;
  tokenizerJson?: object;
  tokenizerConfig?: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
}

export async function loadOnnxFolder(source: ModelSource, opts: LoadOptions & { prefer?: 'f32' | 'f16' } = {}): Promise<OnnxFolder> {
  const candidates = opts.prefer === 'f16' ? [...ONNX_CANDIDATES].reverse() : ONNX_CANDIDATES;
  const configJson = await readJson(source, 'config.json', opts);
  if (!configJson) throw new ModelLoadError(`${source.where('config.json')}: not found (an ONNX model folder needs config.json beside onnx/)`);
  const config = parseQwen2Config(configJson, source.where('config.json'));
  for (const file of candidates) {
    const opened = await source.open(file, opts.signal);
    if (!opened) continue;
    const graph = await readStream(file, opened, opts);
    const dataFile = `${file}_data`;
    const data = await source.open(dataFile, opts.signal);
    const externalData = data ? [{ path: dataFile.slice('onnx/'.length), data: await readStream(dataFile, data, opts) }] : [];
    const [tokenizerJson, tokenizerConfig, generationConfig] = await Promise.all(
      ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'].map((f) => readJson(source, f, opts)),
    );
    return { where: source.where(file), graph, externalData, config, tokenizerJson, tokenizerConfig, generationConfig };
  }
  throw new ModelLoadError(
    `${source.where('onnx/')}: no ONNX graph (looked for ${candidates.join(', ')}); an ONNX model folder keeps its graph under onnx/, as export-onnx and the onnx-community repos do`,
  );
}
