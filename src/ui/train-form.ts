// The Training tab's form: the run's TrainConfig (the one config type, src/train/config.ts, that the CLI's
// `train --config` file holds) plus where its prompts come from, the presets, and the startTraining arguments.
import type { DatasetFormat } from '../data/datasets.ts';
import { DEFAULT_LORA, type SyntheticData, type TrainConfig } from '../train/config.ts';
import { PAPER_GRPO } from '../train/trainer.ts';
import { DEFAULT_SFT } from '../train/sft-trainer.ts';
import type { RewardName } from '../toolcall/reward.ts';
import { DEFAULT_TEMPLATE } from '../toolcall/template.ts';

export interface TrainForm {
  /** `model` is set by the Worker to the loaded model, `data` from the fields below; `lora` is kept while full is chosen */
  config: TrainConfig & { lora: NonNullable<TrainConfig['lora']> };
  dataKind: 'synthetic' | 'file';
  synthetic: Required<SyntheticData>;
  file: File | null;
  format: DatasetFormat;
  heldoutFraction: number;
}

/** Part of a form: nested objects key by key, anything else (lists, files, numbers) whole. */
export type FormPatch<T = TrainForm> = { [K in keyof T]?: T[K] extends readonly unknown[] | File | null ? T[K] : T[K] extends object ? FormPatch<T[K]> : T[K] };

export function patchForm<T>(value: T, patch: FormPatch<T>): T {
  const out = { ...value } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    const old = out[k];
    const nested = typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Blob) && typeof old === 'object' && old !== null;
    out[k] = nested ? patchForm(old, v as FormPatch<typeof old>) : v;
  }
  return out as T;
}

/** The rewards of src/toolcall/reward.ts, in words: the paper's default and its three ablations. */
export const REWARD_TEXT: Record<RewardName, string> = {
  binary: '1 when it has the think tags and exactly the right calls, else 0',
  binary_no_think: '1 when it has exactly the right calls, else 0 (no format check)',
  partial_format: '0.2 for the think tags plus 0.8 for exactly the right calls',
  partial_names: '0.2 for the think tags plus 0.8 for exactly the right calls, or 0.2 when only the names match',
};

export interface Preset {
  id: string;
  label: string;
  note: string;
  patch: FormPatch;
}

export const PRESETS: Preset[] = [
  {
    id: 'tiny',
    label: 'Tiny model',
    note:
      'For the embedded 2-layer model, warm-started by SFT so that some of its samples are right: full ' +
      'fine-tuning, the tiny synthetic level, G = 8 at temperature 1, a large learning rate and no KL (β = 0, so ' +
      'no reference pass), room for the longest answer (96 new tokens).',
    patch: {
      dataKind: 'synthetic',
      synthetic: { level: 'tiny' },
      config: {
        mode: 'full',
        grpo: {
          ...PAPER_GRPO,
          steps: 40,
          promptsPerStep: 2,
          groupSize: 8,
          maxNewTokens: 96,
          temperature: 1,
          microBatch: 16,
          schedule: { kind: 'constant', lr: 5e-4 },
          objective: { ...PAPER_GRPO.objective, beta: 0, maxCompletionLength: 96 },
          evalEvery: 5,
          evalSize: 16,
        },
      },
    },
  },
  {
    id: 'paper',
    label: 'Paper (verl) settings',
    note:
      'Tool-N1 as run with verl: lr 1e-6 constant, G = 5, β = 0.001 (k3 KL to the starting weights), ε = 0.2, ' +
      'temperature 0.7, token-mean loss, μ = 1. The paper drew 1024 prompts per step and trained 7 epochs on ' +
      'real Qwen2.5 models; the prompt count here is scaled to a browser.',
    patch: { config: { mode: 'full', grpo: PAPER_GRPO } },
  },
];

export const DEFAULT_TRAIN_FORM: TrainForm = patchForm<TrainForm>(
  {
    config: {
      method: 'grpo',
      model: 'embedded',
      mode: 'full',
      lora: DEFAULT_LORA,
      data: { synthetic: { level: 'tiny', seed: 0 } },
      reward: 'binary',
      template: DEFAULT_TEMPLATE,
      maxPromptTokens: 4096,
      grpo: PAPER_GRPO,
      sft: DEFAULT_SFT,
      resume: null,
      benchmark: null,
    },
    dataKind: 'synthetic',
    synthetic: { level: 'tiny', seed: 0, train: 1000, heldout: 50 },
    file: null,
    format: 'instance',
    heldoutFraction: 0.1,
  },
  PRESETS[0].patch,
);

/** The startTraining arguments: the config with its data as the form chose it, and the file it names. */
export function trainArgs(f: TrainForm): { config: TrainConfig; file: File | null } {
  if (f.dataKind === 'file' && !f.file) throw new Error('choose a dataset file first');
  const data: TrainConfig['data'] =
    f.dataKind === 'file' ? { train: f.file!.name, format: f.format, heldoutFraction: f.heldoutFraction } : { synthetic: f.synthetic };
  return { config: { ...f.config, data, lora: f.config.mode === 'lora' ? f.config.lora : null }, file: f.dataKind === 'file' ? f.file : null };
}
