// Where the eval and train commands take a model from: "embedded" (public/models/tiny), "hub:<repo>" (or
// {hub: repo} in a config; needs network), or a folder in Hugging Face layout.
import { embeddedDirSource, dirSource } from '../model/source-node.ts';
import { hubSource, loadModel, type LoadedModel, type ModelSource } from '../model/source.ts';
import { tokenizerForModel, type QwenTokenizer } from '../model/tokenizer.ts';

export type ModelSpec = string | { hub: string };

export function modelSource(spec: ModelSpec): ModelSource {
  if (typeof spec === 'object') return hubSource(spec.hub, { cache: null });
  if (spec === 'embedded') return embeddedDirSource();
  if (spec.startsWith('hub:')) return hubSource(spec.slice(4), { cache: null });
  return dirSource(spec);
}

export interface OpenedModel {
  source: ModelSource;
  loaded: LoadedModel;
  tokenizer: QwenTokenizer;
}

/** The model and its tokenizer; a model without tokenizer files gets the offline Qwen2.5 tokenizer. */
export async function openModel(spec: ModelSpec): Promise<OpenedModel> {
  const source = modelSource(spec);
  const loaded = await loadModel(source);
  return { source, loaded, tokenizer: await tokenizerForModel(loaded) };
}
