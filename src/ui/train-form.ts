// The Training tab's form: the run's settings plus where its prompts come from, the presets, and the
// conversion into the Worker's startTraining arguments.
import type { DatasetFormat } from '../data/datasets.ts';
import type { SyntheticLevel } from '../data/synthetic.ts';
import { PAPER_GRPO, type GrpoConfig } from '../train/trainer.ts';
import type { RewardName } from '../toolcall/reward.ts';
import type { TrainData, TrainSettings } from '../worker/protocol.ts';

export interface TrainForm extends TrainSettings {
  dataKind: TrainData['kind'];
  level: SyntheticLevel;
  dataSeed: number;
  trainSize: number;
  heldoutSize: number;
  file: File | null;
  format: DatasetFormat;
  heldoutFraction: number;
}

/** The rewards of src/toolcall/reward.ts, in words: the paper's default and its three ablations. */
export const REWARD_TEXT: Record<RewardName, string> = {
  binary: '1 when it has the think tags and exactly the right calls, else 0',
  binary_no_think: '1 when it has exactly the right calls, else 0 (no format check)',
  partial_format: '0.2 for the think tags plus 0.8 for exactly the right calls',
  partial_names: '0.2 for the think tags plus 0.8 for exactly the right calls, or 0.2 when only the names match',
};

/** The GRPO knobs of a trainer config, as the form holds them. */
function knobs(c: GrpoConfig): Omit<TrainSettings, 'mode' | 'lora' | 'reward' | 'maxPromptTokens'> {
  return {
    steps: c.steps,
    promptsPerStep: c.promptsPerStep,
    groupSize: c.groupSize,
    maxNewTokens: c.maxNewTokens,
    temperature: c.temperature,
    lr: c.schedule.lr,
    beta: c.objective.beta,
    epsilonLow: c.objective.epsilonLow,
    epsilonHigh: c.objective.epsilonHigh,
    lossType: c.objective.lossType,
    iterations: c.iterations,
    microBatch: c.microBatch,
    evalEvery: c.evalEvery,
    evalSize: c.evalSize,
    checkpointEvery: c.checkpointEvery,
    seed: c.seed,
  };
}

export interface Preset {
  id: string;
  label: string;
  note: string;
  patch: Partial<TrainForm>;
}

export const PRESETS: Preset[] = [
  {
    id: 'tiny',
    label: 'Tiny model',
    note:
      'For the embedded 2-layer model: full fine-tuning, the tiny synthetic level, a large learning rate and no KL ' +
      '(β = 0, so no reference pass). Its weights are random: expect the reward to stay near 0 for a long while.',
    patch: {
      mode: 'full',
      dataKind: 'synthetic',
      level: 'tiny',
      ...knobs({
        ...PAPER_GRPO,
        steps: 50,
        promptsPerStep: 4,
        groupSize: 4,
        maxNewTokens: 48,
        temperature: 1,
        microBatch: 8,
        schedule: { kind: 'constant', lr: 1e-3 },
        objective: { ...PAPER_GRPO.objective, beta: 0 },
        evalEvery: 10,
        evalSize: 8,
      }),
    },
  },
  {
    id: 'paper',
    label: 'Paper (verl) settings',
    note:
      'Tool-N1 as run with verl: lr 1e-6 constant, G = 5, β = 0.001 (k3 KL to the starting weights), ε = 0.2, ' +
      'temperature 0.7, token-mean loss, μ = 1. The paper drew 1024 prompts per step and trained 7 epochs on ' +
      'real Qwen2.5 models; the prompt count here is scaled to a browser.',
    patch: { mode: 'full', ...knobs(PAPER_GRPO) },
  },
];

export const DEFAULT_TRAIN_FORM: TrainForm = {
  mode: 'full',
  lora: { rank: 8, alpha: 16, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
  reward: 'binary',
  maxPromptTokens: 4096,
  ...knobs(PAPER_GRPO),
  dataKind: 'synthetic',
  level: 'tiny',
  dataSeed: 0,
  trainSize: 1000,
  heldoutSize: 50,
  file: null,
  format: 'instance',
  heldoutFraction: 0.1,
  ...PRESETS[0].patch,
};

export function trainArgs(f: TrainForm): { settings: TrainSettings; data: TrainData } {
  const { dataKind, level, dataSeed, trainSize, heldoutSize, file, format, heldoutFraction, ...settings } = f;
  if (dataKind === 'file' && !file) throw new Error('choose a dataset file first');
  const data: TrainData =
    dataKind === 'file'
      ? { kind: 'file', file: file!, format, heldoutFraction }
      : { kind: 'synthetic', level, seed: dataSeed, train: trainSize, heldout: heldoutSize };
  return { settings, data };
}
