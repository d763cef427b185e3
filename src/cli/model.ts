// Where the eval and train commands take a model from: "embedded" (public/models/tiny), "hub:<repo>" (or
// {hub: repo} in a config; needs network), or a folder in Hugging Face layout.
import { embeddedDirSource, dirSource } from '../model/source-node.ts';
import { ModelLoadError, hubSource, loadModel, type LoadedModel, type ModelSource } from '../model/source.ts';
import { ADAPTER_CONFIG, loadPeftAdapter, type PeftAdapter } from '../model/adapter.ts';
import { tokenizerForModel, type QwenTokenizer } from '../model/tokenizer.ts';
import type { ModelSpec } from '../train/config.ts';

export type { ModelSpec };

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
  /** the LoRA adapter to attach over the model (attachAdapter), when one was asked for */
  adapter?: PeftAdapter;
}

/** The model and its tokenizer; a model without tokenizer files gets the offline Qwen2.5 tokenizer. */
export async function openModel(spec: ModelSpec, adapterDir?: string): Promise<OpenedModel> {
  const source = modelSource(spec);
  const loaded = await loadModel(source).catch(async (e: unknown) => {
    // A LoRA run's output has no config.json of its own: say how to load it instead.
    if (e instanceof ModelLoadError && /config\.json: not found/.test(e.message) && (await source.open(ADAPTER_CONFIG))) {
      throw new ModelLoadError(`${source.where('')} holds a LoRA adapter, not a model: load it over its base with --model BASE --adapter ${String(spec)}`);
    }
    throw e;
  });
  const adapter = adapterDir === undefined ? undefined : await loadPeftAdapter(dirSource(adapterDir), loaded.config);
  return { source, loaded, tokenizer: await tokenizerForModel(loaded), adapter };
}
