// Where the eval and train commands take a model from: "embedded" (public/models/tiny), "hub:<repo>" (or
// {hub: repo} in a config; needs network), or a folder in Hugging Face layout.
import { embeddedDirSource, dirSource } from '../model/source-node.ts';
import { ModelLoadError, hubSource, loadModel, type LoadedModel, type ModelSource } from '../model/source.ts';
import { ADAPTER_CONFIG, loadPeftAdapter, mergeAdapter, type PeftAdapter } from '../model/adapter.ts';
import { tokenizerForModel, type QwenTokenizer } from '../model/tokenizer.ts';
import type { ModelSpec } from '../train/config.ts';
import { peftBaseName } from '../train/run.ts';
import { parseTrainConfig } from './train-config.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * A training run's starting model: any model, or an SFT run's folder. A full SFT run's folder is a model
 * (its merged export); a LoRA run's holds its adapter, merged here over the base its train-config.json names,
 * after checking the adapter against that base (shapes, and PEFT's base_model_name_or_path).
 */
export async function openStartModel(spec: ModelSpec): Promise<OpenedModel> {
  const isFolder = typeof spec === 'string' && spec !== 'embedded' && !spec.startsWith('hub:');
  if (!isFolder || !existsSync(join(spec, ADAPTER_CONFIG)) || existsSync(join(spec, 'config.json'))) return openModel(spec);
  const runConfig = join(spec, 'train-config.json');
  if (!existsSync(runConfig)) throw new ModelLoadError(`${spec} holds a LoRA adapter but no train-config.json naming the base it was trained on`);
  const run = parseTrainConfig(readFileSync(runConfig, 'utf8'), runConfig);
  const base = await openModel(run.model);
  const adapter = await loadPeftAdapter(dirSource(spec), base.loaded.config);
  const expected = peftBaseName(run.model, base.source);
  if (adapter.baseModel !== null && adapter.baseModel !== expected) {
    throw new ModelLoadError(`${join(spec, ADAPTER_CONFIG)}: the adapter's base is ${adapter.baseModel}, but ${runConfig} names ${expected}: they do not match`);
  }
  return { ...base, loaded: mergeAdapter(base.loaded, adapter) };
}
