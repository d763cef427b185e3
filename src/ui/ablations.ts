// The paper's ablations as one-click sets: each variant is the Training form's run with one thing changed,
// run one after another under its own name, and shown overlaid when the set is done.
import type { FormPatch } from './train-form.ts';

export interface AblationVariant {
  name: string;
  patch: FormPatch;
  /** a GRPO run from the SFT run just before it (SFT → RL) */
  continues?: boolean;
}

export interface AblationSet {
  id: string;
  label: string;
  note: string;
  variants: AblationVariant[];
}

export const ABLATIONS: AblationSet[] = [
  {
    id: 'rewards',
    label: 'Binary vs partial rewards',
    note: 'The paper’s binary reward against the two partial ones (0.2 for the format, 0.8 for the calls; or 0.2 for the names alone).',
    variants: [
      { name: 'reward binary', patch: { config: { method: 'grpo', reward: 'binary' } } },
      { name: 'reward partial_format', patch: { config: { method: 'grpo', reward: 'partial_format' } } },
      { name: 'reward partial_names', patch: { config: { method: 'grpo', reward: 'partial_names' } } },
    ],
  },
  {
    id: 'reasoning',
    label: 'With vs without reasoning format',
    note: 'The binary reward with its think-tag check, and without it (right calls alone earn 1).',
    variants: [
      { name: 'with reasoning format', patch: { config: { method: 'grpo', reward: 'binary' } } },
      { name: 'without reasoning format', patch: { config: { method: 'grpo', reward: 'binary_no_think' } } },
    ],
  },
  {
    id: 'methods',
    label: 'SFT vs GRPO vs SFT→GRPO',
    note: 'Supervised fine-tuning on rendered targets, GRPO from that SFT run’s policy, and GRPO alone.',
    variants: [
      { name: 'SFT', patch: { config: { method: 'sft' } } },
      { name: 'SFT→GRPO', patch: { config: { method: 'grpo' } }, continues: true },
      { name: 'GRPO', patch: { config: { method: 'grpo' } } },
    ],
  },
  {
    id: 'beta',
    label: 'β = 0 vs 0.001',
    note: 'No KL term against the paper’s β = 0.001 (k3 KL to the starting weights; full fine-tuning keeps a frozen copy).',
    variants: [
      { name: 'β 0', patch: { config: { method: 'grpo', grpo: { objective: { beta: 0 } } } } },
      { name: 'β 0.001', patch: { config: { method: 'grpo', grpo: { objective: { beta: 0.001 } } } } },
    ],
  },
];
