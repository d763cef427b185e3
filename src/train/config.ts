// The one training configuration: what the CLI's `train --config` file holds and what the studio's Training
// form reads and writes. JSON; what is left out takes its default (grpo: PAPER_GRPO key by key, template:
// DEFAULT_TEMPLATE); an unknown key or a value out of range is an error naming the key, so a typo never
// trains silently with a default and nothing absurd reaches the GPU. Browser-safe: paths are resolved by a
// function the caller passes (the CLI: relative to the config file).
import type { DatasetFormat } from '../data/datasets.ts';
import { BENCHES, isUrl, type Bench } from '../eval/suites.ts';
import { SYNTHETIC_LEVELS, type SyntheticLevel } from '../data/synthetic.ts';
import type { LossType, ScaleRewards } from './objectives.ts';
import type { LoraSettings, LoraTarget } from './policy.ts';
import { PAPER_GRPO, type GrpoConfig } from './trainer.ts';
import { DEFAULT_SFT, type SftConfig } from './sft-trainer.ts';
import { SFT_REASONING } from '../data/sft.ts';
import { REWARDS, type RewardName } from '../toolcall/reward.ts';
import { resolveTemplate, type TemplateOptions } from '../toolcall/template.ts';

/** "embedded", "hub:<repo>" or {hub: repo}, or a folder in Hugging Face layout. */
export type ModelSpec = string | { hub: string };

export type SyntheticData = { level: SyntheticLevel; seed: number; train?: number; heldout?: number };
export type FileData = { train: string; heldout?: string; format: DatasetFormat; heldoutFraction: number };
export type DataConfig = { synthetic: SyntheticData } | FileData;

/**
 * A benchmark subset evaluated with the trained policy every `every` steps, beside the reward (greedy, with
 * the run's template): `eval`'s benches, data and categories.
 */
export interface BenchmarkSetting {
  bench: Bench;
  /** BFCL / API-Bank: a folder or base URL of the benchmark's files; synthetic: "LEVEL:SEED" (its held-out split) or an instance file */
  data: string;
  /** BFCL categories, API-Bank levels (level-1, level-2) or synthetic categories (single, parallel, no_call); null: all present */
  categories: string[] | null;
  /** the first N entries of each category */
  limit: number;
  /** steps between evaluations */
  every: number;
  maxNewTokens: number;
}

export interface TrainConfig {
  /** GRPO (the paper's RL) or supervised fine-tuning on target completions */
  method: 'grpo' | 'sft';
  model: ModelSpec;
  mode: 'full' | 'lora';
  /** null for full fine-tuning */
  lora: LoraSettings | null;
  data: DataConfig;
  reward: RewardName;
  template: TemplateOptions;
  /** longer prompts are dropped (the paper: 4096); lowered to fit the model's positions */
  maxPromptTokens: number;
  grpo: GrpoConfig;
  /** used when method is 'sft' */
  sft: SftConfig;
  /** checkpoint to continue from */
  resume: string | null;
  /** benchmark accuracy during the run; null: none */
  benchmark: BenchmarkSetting | null;
}

/** The method's settings: steps, the seed that draws the run's split, init and samples, the decoding budget. */
export const methodConfig = (config: TrainConfig): GrpoConfig | SftConfig => (config.method === 'sft' ? config.sft : config.grpo);

export const LORA_TARGETS: LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];
export const DEFAULT_LORA: LoraSettings = { rank: 8, alpha: 16, targets: LORA_TARGETS };
/** GrpoConfig and SftConfig fields that must be whole numbers ≥ 1 */
const COUNTS = ['steps', 'promptsPerStep', 'groupSize', 'maxNewTokens', 'iterations', 'miniBatches', 'microBatch', 'batchSize'];
/** whole numbers ≥ 0 (0: never / none) */
const WHOLE = ['evalEvery', 'evalSize', 'checkpointEvery', 'seed', 'topK'];
/** finite numbers > 0 */
const POSITIVE = ['temperature', 'maxGradNorm'];
/** finite numbers ≥ 0 */
const NON_NEGATIVE = ['weightDecay', 'advantageEps'];

type Obj = Record<string, unknown>;

function object(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where} must be an object`);
  return v as Obj;
}

function onlyKeys(o: Obj, allowed: string[], where: string): void {
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw new Error(`${where}.${extra} is not a setting (known: ${allowed.join(', ')})`);
}

function oneOf<T extends string>(v: unknown, options: readonly T[], where: string): T {
  if (!options.includes(v as T)) throw new Error(`${where} must be one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** A value as the error shows it (JSON would show Infinity as null). */
const shown = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

function count(v: unknown, where: string, min = 1): number {
  if (!Number.isInteger(v) || (v as number) < min) throw new Error(`${where} must be a whole number ≥ ${min}, got ${shown(v)}`);
  return v as number;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${where} must be a non-empty string`);
  return v;
}

// JSON's 1e999 parses to Infinity: every number is checked finite.
function positive(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw new Error(`${where} must be a finite number > 0, got ${shown(v)}`);
  return v;
}

function nonNegative(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where} must be a finite number ≥ 0, got ${shown(v)}`);
  return v;
}

function fraction(v: unknown, where: string, open: 'below' | 'above'): number {
  const ok = typeof v === 'number' && (open === 'below' ? v >= 0 && v < 1 : v > 0 && v <= 1);
  if (!ok) throw new Error(`${where} must be in ${open === 'below' ? '[0, 1)' : '(0, 1]'}, got ${shown(v)}`);
  return v as number;
}

// JSON with comments → JSON: drops line and block comments outside strings.
export function stripJsonComments(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === '"') {
      const start = i;
      for (i++; i < src.length && src[i] !== '"'; i++) if (src[i] === '\\') i++;
      out += src.slice(start, i + 1);
    } else if (ch === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      out += '\n';
    } else if (ch === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 1;
    } else out += ch;
  }
  return out;
}

/** A config file's text → a validated config; errors start with `where`. */
export function parseTrainConfigText(source: string, where: string, resolvePath: (p: string) => string): TrainConfig {
  let json: unknown;
  try {
    json = JSON.parse(stripJsonComments(source));
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return resolveTrainConfig(json, resolvePath);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

/**
 * Validates a config as JSON and fills its defaults. A resolved config resolves to itself, so the studio's
 * form (which holds a resolved config) goes through the same checks as a CLI file.
 */
export function resolveTrainConfig(json: unknown, resolvePath: (p: string) => string = (p) => p): TrainConfig {
  const c = object(json, 'config');
  onlyKeys(c, ['method', 'model', 'mode', 'lora', 'data', 'reward', 'template', 'maxPromptTokens', 'grpo', 'sft', 'resume', 'benchmark'], 'config');
  const mode = c.mode === undefined ? 'full' : oneOf(c.mode, ['full', 'lora'] as const, 'mode');
  const method = c.method === undefined ? 'grpo' : oneOf(c.method, ['grpo', 'sft'] as const, 'method');
  const grpoConfig = grpo(c.grpo);
  const sftConfig = sft(c.sft);
  return {
    method,
    model: modelSpec(c.model, resolvePath),
    mode,
    lora: mode === 'lora' ? lora(c.lora) : null,
    data: data(c.data, resolvePath),
    reward: c.reward === undefined ? 'binary' : oneOf(c.reward, Object.keys(REWARDS) as RewardName[], 'reward'),
    template: resolveTemplate(c.template),
    maxPromptTokens: c.maxPromptTokens === undefined ? 4096 : count(c.maxPromptTokens, 'maxPromptTokens'),
    grpo: grpoConfig,
    sft: sftConfig,
    resume: c.resume === undefined || c.resume === null ? null : resolvePath(text(c.resume, 'resume')),
    benchmark: benchmark(c.benchmark, (method === 'sft' ? sftConfig : grpoConfig).maxNewTokens, resolvePath),
  };
}

function benchmark(v: unknown, maxNewTokens: number, resolvePath: (p: string) => string): BenchmarkSetting | null {
  if (v === undefined || v === null) return null;
  const o = object(v, 'benchmark');
  onlyKeys(o, ['bench', 'data', 'categories', 'limit', 'every', 'maxNewTokens'], 'benchmark');
  const bench = oneOf(o.bench, BENCHES, 'benchmark.bench');
  const data = text(o.data, bench === 'synthetic' ? 'benchmark.data ("LEVEL:SEED" or an instance file)' : 'benchmark.data (a folder or URL)');
  // A folder or file is relative to the config; a URL and the synthetic split's "LEVEL:SEED" are names.
  const named = isUrl(data) || (bench === 'synthetic' && /^\w+:\d+$/.test(data));
  let categories: string[] | null = null;
  if (o.categories !== undefined && o.categories !== null) {
    if (!Array.isArray(o.categories) || o.categories.length === 0) throw new Error('benchmark.categories must be a non-empty list of names, or null for all');
    categories = o.categories.map((x, i) => text(x, `benchmark.categories[${i}]`));
  }
  return {
    bench,
    data: named ? data : resolvePath(data),
    categories,
    limit: o.limit === undefined ? 16 : count(o.limit, 'benchmark.limit'),
    every: o.every === undefined ? 10 : count(o.every, 'benchmark.every'),
    maxNewTokens: o.maxNewTokens === undefined ? maxNewTokens : count(o.maxNewTokens, 'benchmark.maxNewTokens'),
  };
}

function modelSpec(v: unknown, resolvePath: (p: string) => string): ModelSpec {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    onlyKeys(v as Obj, ['hub'], 'model');
    return { hub: text((v as Obj).hub, 'model.hub') };
  }
  const spec = text(v, 'model ("embedded", a folder, or {"hub": "<repo>"})');
  return spec === 'embedded' || spec.startsWith('hub:') ? spec : resolvePath(spec);
}

function lora(v: unknown): LoraSettings {
  if (v === undefined || v === null) return DEFAULT_LORA;
  const o = object(v, 'lora');
  onlyKeys(o, ['rank', 'alpha', 'targets'], 'lora');
  const targets = o.targets === undefined ? DEFAULT_LORA.targets : o.targets;
  if (!Array.isArray(targets) || targets.length === 0) throw new Error(`lora.targets must be a non-empty list of ${LORA_TARGETS.join(', ')}`);
  return {
    rank: o.rank === undefined ? DEFAULT_LORA.rank : count(o.rank, 'lora.rank'),
    alpha: o.alpha === undefined ? DEFAULT_LORA.alpha : positive(o.alpha, 'lora.alpha'),
    targets: targets.map((t, i) => oneOf(t, LORA_TARGETS, `lora.targets[${i}]`)),
  };
}

function data(v: unknown, resolvePath: (p: string) => string): DataConfig {
  const o = object(v, 'data');
  if (o.synthetic !== undefined) {
    onlyKeys(o, ['synthetic'], 'data');
    const s = object(o.synthetic, 'data.synthetic');
    onlyKeys(s, ['level', 'seed', 'train', 'heldout'], 'data.synthetic');
    return {
      synthetic: {
        level: oneOf(s.level, Object.keys(SYNTHETIC_LEVELS) as SyntheticLevel[], 'data.synthetic.level'),
        seed: s.seed === undefined ? 0 : count(s.seed, 'data.synthetic.seed', 0),
        train: s.train === undefined ? undefined : count(s.train, 'data.synthetic.train'),
        heldout: s.heldout === undefined ? undefined : count(s.heldout, 'data.synthetic.heldout'),
      },
    };
  }
  onlyKeys(o, ['train', 'heldout', 'format', 'heldoutFraction'], 'data');
  return {
    train: resolvePath(text(o.train, 'data.train (or data.synthetic)')),
    heldout: o.heldout === undefined ? undefined : resolvePath(text(o.heldout, 'data.heldout')),
    format: o.format === undefined ? 'instance' : oneOf(o.format, ['instance', 'xlam', 'toolace'] as const, 'data.format'),
    heldoutFraction: o.heldoutFraction === undefined ? 0.1 : fraction(o.heldoutFraction, 'data.heldoutFraction', 'below'),
  };
}

function grpo(v: unknown): GrpoConfig {
  const o = v === undefined ? {} : object(v, 'grpo');
  onlyKeys(o, Object.keys(PAPER_GRPO), 'grpo');
  settings(o, PAPER_GRPO, 'grpo');
  if (o.topP !== undefined) fraction(o.topP, 'grpo.topP', 'above');
  if (o.scaleRewards !== undefined) oneOf(o.scaleRewards, ['group', 'batch', 'none'] satisfies ScaleRewards[], 'grpo.scaleRewards');
  const config = { ...PAPER_GRPO, ...(o as Partial<GrpoConfig>) };
  if (config.groupSize < 2) throw new Error('grpo.groupSize must be at least 2: advantages compare completions within a group');
  if (config.miniBatches > config.promptsPerStep) {
    throw new Error(`grpo.miniBatches (${config.miniBatches}) must not exceed grpo.promptsPerStep (${config.promptsPerStep}): a mini-batch holds whole groups`);
  }
  const obj = o.objective === undefined ? {} : object(o.objective, 'grpo.objective');
  onlyKeys(obj, Object.keys(PAPER_GRPO.objective), 'grpo.objective');
  if (obj.lossType !== undefined) oneOf(obj.lossType, ['grpo', 'bnpo', 'dr_grpo', 'dapo'] satisfies LossType[], 'grpo.objective.lossType');
  for (const k of ['epsilonLow', 'epsilonHigh', 'beta'] as const) if (obj[k] !== undefined) nonNegative(obj[k], `grpo.objective.${k}`);
  if (obj.klClamp !== undefined && obj.klClamp !== null) positive(obj.klClamp, 'grpo.objective.klClamp');
  // dr_grpo divides by the longest completion allowed: by default the one actually allowed.
  const maxCompletionLength = obj.maxCompletionLength === undefined ? config.maxNewTokens : count(obj.maxCompletionLength, 'grpo.objective.maxCompletionLength');
  return { ...config, objective: { ...PAPER_GRPO.objective, ...(obj as Partial<GrpoConfig['objective']>), maxCompletionLength } };
}

/** The checks GRPO and SFT settings share: counts, finite numbers, switches, AdamW's betas, the schedule. */
function settings(o: Obj, defaults: object, block: string): void {
  for (const [k, x] of Object.entries(o)) {
    const where = `${block}.${k}`;
    const d = (defaults as Obj)[k];
    if (COUNTS.includes(k)) count(x, where);
    else if (WHOLE.includes(k)) count(x, where, 0);
    else if (POSITIVE.includes(k)) positive(x, where);
    else if (NON_NEGATIVE.includes(k)) nonNegative(x, where);
    else if (typeof d === 'number' && (typeof x !== 'number' || !Number.isFinite(x))) throw new Error(`${where} must be a finite number`);
    else if (typeof d === 'boolean' && typeof x !== 'boolean') throw new Error(`${where} must be true or false`);
  }
  for (const k of ['beta1', 'beta2']) if (o[k] !== undefined) fraction(o[k], `${block}.${k}`, 'below');
  if (o.schedule !== undefined) schedule(o.schedule, `${block}.schedule`);
}

function sft(v: unknown): SftConfig {
  const o = v === undefined ? {} : object(v, 'sft');
  onlyKeys(o, Object.keys(DEFAULT_SFT), 'sft');
  settings(o, DEFAULT_SFT, 'sft');
  if (o.reasoning !== undefined) oneOf(o.reasoning, SFT_REASONING, 'sft.reasoning');
  return { ...DEFAULT_SFT, ...(o as Partial<SftConfig>) };
}

function schedule(v: unknown, where: string): void {
  const s = object(v, where);
  onlyKeys(s, ['kind', 'lr', 'warmupSteps', 'totalSteps', 'minLr'], where);
  const kind = oneOf(s.kind, ['constant', 'linear', 'cosine'] as const, `${where}.kind`);
  positive(s.lr, `${where}.lr`);
  const warmup = s.warmupSteps === undefined ? 0 : count(s.warmupSteps, `${where}.warmupSteps`, 0);
  if (kind === 'constant') return;
  if (count(s.totalSteps, `${where}.totalSteps`) <= warmup) throw new Error(`${where}.totalSteps must exceed warmupSteps (${warmup})`);
  if (s.minLr !== undefined) nonNegative(s.minLr, `${where}.minLr`);
}
