// The train command's configuration file: JSON with // and /* */ comments. What is left out takes its
// default (grpo: PAPER_GRPO key by key, template: DEFAULT_TEMPLATE, see resolveTemplate); an unknown key is an error, so a typo
// never trains silently with a default. Relative paths are relative to the config file.
import { isAbsolute, resolve } from 'node:path';
import type { DatasetFormat } from '../data/datasets.ts';
import { SYNTHETIC_LEVELS, type SyntheticLevel } from '../data/synthetic.ts';
import type { LossType, ScaleRewards } from '../train/objectives.ts';
import type { LoraSettings, LoraTarget } from '../train/policy.ts';
import { PAPER_GRPO, type GrpoConfig } from '../train/trainer.ts';
import { REWARDS, type RewardName } from '../toolcall/reward.ts';
import { resolveTemplate, type TemplateOptions } from '../toolcall/template.ts';
import type { ModelSpec } from './model.ts';

export type DataConfig =
  | { synthetic: { level: SyntheticLevel; seed: number; train?: number; heldout?: number } }
  | { train: string; heldout?: string; format: DatasetFormat; heldoutFraction: number };

export interface TrainConfig {
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
  /** checkpoint to continue from */
  resume: string | null;
}

const LORA_TARGETS: LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];
export const DEFAULT_LORA: LoraSettings = { rank: 8, alpha: 16, targets: LORA_TARGETS };
/** GrpoConfig fields that must be whole numbers ≥ 1 */
const COUNTS = ['steps', 'promptsPerStep', 'groupSize', 'maxNewTokens', 'iterations', 'miniBatches', 'microBatch'];

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

function count(v: unknown, where: string, min = 1): number {
  if (!Number.isInteger(v) || (v as number) < min) throw new Error(`${where} must be a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${where} must be a non-empty string`);
  return v;
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

export function parseTrainConfig(source: string, where: string): TrainConfig {
  let json: unknown;
  try {
    json = JSON.parse(stripJsonComments(source));
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return resolveTrainConfig(json, resolve(where, '..'));
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

const isUrl = (p: string) => /^https?:\/\//.test(p);
const pathFrom = (base: string, p: string) => (isUrl(p) || isAbsolute(p) ? p : resolve(base, p));

export function resolveTrainConfig(json: unknown, baseDir: string): TrainConfig {
  const c = object(json, 'config');
  onlyKeys(c, ['model', 'mode', 'lora', 'data', 'reward', 'template', 'maxPromptTokens', 'grpo', 'resume'], 'config');
  const mode = c.mode === undefined ? 'full' : oneOf(c.mode, ['full', 'lora'] as const, 'mode');
  return {
    model: modelSpec(c.model, baseDir),
    mode,
    lora: mode === 'lora' ? lora(c.lora) : null,
    data: data(c.data, baseDir),
    reward: c.reward === undefined ? 'binary' : oneOf(c.reward, Object.keys(REWARDS) as RewardName[], 'reward'),
    template: resolveTemplate(c.template),
    maxPromptTokens: c.maxPromptTokens === undefined ? 4096 : count(c.maxPromptTokens, 'maxPromptTokens'),
    grpo: grpo(c.grpo),
    resume: c.resume === undefined || c.resume === null ? null : pathFrom(baseDir, text(c.resume, 'resume')),
  };
}

function modelSpec(v: unknown, baseDir: string): ModelSpec {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    onlyKeys(v as Obj, ['hub'], 'model');
    return { hub: text((v as Obj).hub, 'model.hub') };
  }
  const spec = text(v, 'model ("embedded", a folder, or {"hub": "<repo>"})');
  return spec === 'embedded' || spec.startsWith('hub:') ? spec : pathFrom(baseDir, spec);
}

function lora(v: unknown): LoraSettings {
  if (v === undefined) return DEFAULT_LORA;
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

function positive(v: unknown, where: string): number {
  if (typeof v !== 'number' || !(v > 0)) throw new Error(`${where} must be a positive number`);
  return v;
}

function data(v: unknown, baseDir: string): DataConfig {
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
  const fraction = o.heldoutFraction === undefined ? 0.1 : o.heldoutFraction;
  if (typeof fraction !== 'number' || fraction < 0 || fraction >= 1) throw new Error('data.heldoutFraction must be in [0, 1)');
  return {
    train: pathFrom(baseDir, text(o.train, 'data.train (or data.synthetic)')),
    heldout: o.heldout === undefined ? undefined : pathFrom(baseDir, text(o.heldout, 'data.heldout')),
    format: o.format === undefined ? 'instance' : oneOf(o.format, ['instance', 'xlam', 'toolace'] as const, 'data.format'),
    heldoutFraction: fraction,
  };
}

export { resolveTemplate };

function grpo(v: unknown): GrpoConfig {
  const o = v === undefined ? {} : object(v, 'grpo');
  onlyKeys(o, Object.keys(PAPER_GRPO), 'grpo');
  for (const [k, x] of Object.entries(o)) {
    if (COUNTS.includes(k)) count(x, `grpo.${k}`);
    else if (typeof PAPER_GRPO[k as keyof GrpoConfig] === 'number' && typeof x !== 'number') throw new Error(`grpo.${k} must be a number`);
  }
  if (o.scaleRewards !== undefined) oneOf(o.scaleRewards, ['group', 'batch', 'none'] satisfies ScaleRewards[], 'grpo.scaleRewards');
  const config = { ...PAPER_GRPO, ...(o as Partial<GrpoConfig>) };
  if (config.groupSize < 2) throw new Error('grpo.groupSize must be at least 2: advantages compare completions within a group');
  if (o.schedule !== undefined) {
    const s = object(o.schedule, 'grpo.schedule');
    onlyKeys(s, ['kind', 'lr', 'warmupSteps', 'totalSteps', 'minLr'], 'grpo.schedule');
    const kind = oneOf(s.kind, ['constant', 'linear', 'cosine'] as const, 'grpo.schedule.kind');
    positive(s.lr, 'grpo.schedule.lr');
    if (kind !== 'constant') count(s.totalSteps, 'grpo.schedule.totalSteps');
  }
  const obj = o.objective === undefined ? {} : object(o.objective, 'grpo.objective');
  onlyKeys(obj, Object.keys(PAPER_GRPO.objective), 'grpo.objective');
  if (obj.lossType !== undefined) oneOf(obj.lossType, ['grpo', 'bnpo', 'dr_grpo', 'dapo'] satisfies LossType[], 'grpo.objective.lossType');
  for (const k of ['epsilonLow', 'epsilonHigh', 'beta'] as const) {
    if (obj[k] !== undefined && (typeof obj[k] !== 'number' || obj[k] < 0)) throw new Error(`grpo.objective.${k} must be a number ≥ 0`);
  }
  if (obj.klClamp !== undefined && obj.klClamp !== null) positive(obj.klClamp, 'grpo.objective.klClamp');
  // dr_grpo divides by the longest completion allowed: by default the one actually allowed.
  const maxCompletionLength = obj.maxCompletionLength === undefined ? config.maxNewTokens : count(obj.maxCompletionLength, 'grpo.objective.maxCompletionLength');
  return { ...config, objective: { ...PAPER_GRPO.objective, ...(obj as Partial<GrpoConfig['objective']>), maxCompletionLength } };
}
