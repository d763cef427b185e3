// A run's settings in verl's and TRL's terms. One table drives both launch scripts and the README, so
// what a script sets and what the README says it sets cannot drift apart. A setting without a counterpart
// in an engine says so, with what that engine does instead.
import type { TrainConfig } from '../train/config.ts';
import { PEFT_MODULE } from '../model/lora.ts';

/** A value as the engine's config takes it: verl's Hydra overrides are text, TRL's GRPOConfig Python. */
export type Setting = [key: string, value: string];

export interface MappedSetting {
  /** the key in the run's config */
  ours: string;
  value: string;
  verl: Setting[];
  trl: Setting[];
  /** what does not carry over, or how it is carried */
  verlNote?: string;
  trlNote?: string;
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : String(x));
const py = (x: number | boolean | string | null) => (x === null ? 'None' : typeof x === 'boolean' ? (x ? 'True' : 'False') : typeof x === 'string' ? JSON.stringify(x) : num(x));
const hydra = (x: number | boolean | string) => (typeof x === 'boolean' ? (x ? 'True' : 'False') : String(x));

// verl's loss_agg_mode for each of our loss types (verl's token-mean already counts the whole mini-batch's tokens).
const VERL_LOSS_AGG = { grpo: 'seq-mean-token-mean', bnpo: 'token-mean', dr_grpo: 'seq-mean-token-sum-norm', dapo: 'token-mean' } as const;

export function mapSettings(config: TrainConfig): MappedSetting[] {
  const g = config.grpo;
  const o = g.objective;
  const s = g.schedule;
  const miniBatches = g.miniBatches;
  const rows: MappedSetting[] = [
    { ours: 'grpo.promptsPerStep', value: num(g.promptsPerStep), verl: [['data.train_batch_size', num(g.promptsPerStep)]], trl: [], trlNote: 'prompts per generation batch: generation_batch_size = promptsPerStep × num_generations (the script derives the batch sizes from the number of GPUs)' },
    { ours: 'grpo.groupSize', value: num(g.groupSize), verl: [['actor_rollout_ref.rollout.n', num(g.groupSize)]], trl: [['num_generations', num(g.groupSize)]] },
    {
      ours: 'grpo.miniBatches', value: num(miniBatches),
      verl: [['actor_rollout_ref.actor.ppo_mini_batch_size', num(Math.max(1, Math.floor(g.promptsPerStep / miniBatches)))]],
      trl: [['steps_per_generation', 'MINI_BATCHES * GRAD_ACCUM']],
      verlNote: 'in prompts (each with its n completions)' + (g.promptsPerStep % miniBatches ? `; verl needs equal mini-batches and ${g.promptsPerStep} prompts do not split into ${miniBatches}: choose a miniBatches that divides promptsPerStep` : ''),
    },
    { ours: 'grpo.iterations (μ)', value: num(g.iterations), verl: [['actor_rollout_ref.actor.ppo_epochs', num(g.iterations)]], trl: [['num_iterations', num(g.iterations)]] },
    {
      ours: 'grpo.microBatch', value: num(g.microBatch),
      verl: [['actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu', num(g.microBatch)]],
      trl: [['per_device_train_batch_size', num(g.microBatch)]],
      verlNote: 'memory only: the loss does not depend on it', trlNote: 'completions per device per forward; memory only',
    },
    { ours: 'grpo.temperature', value: num(g.temperature), verl: [['actor_rollout_ref.rollout.temperature', num(g.temperature)]], trl: [['temperature', num(g.temperature)]] },
    { ours: 'grpo.topP', value: num(g.topP), verl: [['actor_rollout_ref.rollout.top_p', num(g.topP)]], trl: [['top_p', num(g.topP)]] },
    { ours: 'grpo.topK', value: num(g.topK), verl: [['actor_rollout_ref.rollout.top_k', g.topK > 0 ? num(g.topK) : '-1']], trl: [['top_k', g.topK > 0 ? num(g.topK) : 'None']] },
    { ours: 'maxPromptTokens', value: num(config.maxPromptTokens), verl: [['data.max_prompt_length', num(config.maxPromptTokens)], ['data.filter_overlong_prompts', 'True']], trl: [['max_prompt_length', num(config.maxPromptTokens)]], trlNote: 'TRL truncates longer prompts instead of dropping them; the exported data already holds only prompts that fit' },
    { ours: 'grpo.maxNewTokens', value: num(g.maxNewTokens), verl: [['data.max_response_length', num(g.maxNewTokens)]], trl: [['max_completion_length', num(g.maxNewTokens)]] },
    { ours: 'grpo.objective.epsilonLow', value: num(o.epsilonLow), verl: [['actor_rollout_ref.actor.clip_ratio_low', num(o.epsilonLow)]], trl: [['epsilon', num(o.epsilonLow)]] },
    { ours: 'grpo.objective.epsilonHigh', value: num(o.epsilonHigh), verl: [['actor_rollout_ref.actor.clip_ratio_high', num(o.epsilonHigh)]], trl: [['epsilon_high', num(o.epsilonHigh)]] },
    {
      ours: 'grpo.objective.beta', value: num(o.beta),
      verl: o.beta > 0 ? [['actor_rollout_ref.actor.use_kl_loss', 'True'], ['actor_rollout_ref.actor.kl_loss_coef', num(o.beta)]] : [['actor_rollout_ref.actor.use_kl_loss', 'False']],
      trl: [['beta', num(o.beta)]],
    },
    {
      ours: 'grpo.objective.klClamp', value: o.klClamp === null ? 'null' : num(o.klClamp),
      verl: o.beta > 0 ? [['actor_rollout_ref.actor.kl_loss_type', 'low_var_kl']] : [],
      trl: [],
      verlNote: o.klClamp === 10 ? 'low_var_kl is the k3 estimator clamped to ±10' : 'verl\'s k3 (low_var_kl) is always clamped to ±10: no counterpart for this clamp',
      trlNote: o.klClamp === null ? 'TRL\'s k3 is unclamped, as here' : 'no counterpart: TRL\'s k3 is never clamped',
    },
    {
      ours: 'grpo.objective.lossType', value: o.lossType,
      verl: [['actor_rollout_ref.actor.loss_agg_mode', VERL_LOSS_AGG[o.lossType]]],
      trl: [['loss_type', py(o.lossType)]],
      verlNote: o.lossType === 'dr_grpo' ? 'seq-mean-token-sum-norm divides by the longest response allowed, as dr_grpo' : o.lossType === 'bnpo' || o.lossType === 'dapo' ? 'token-mean over the mini-batch\'s tokens' : undefined,
    },
    { ours: 'grpo.objective.maxCompletionLength', value: num(o.maxCompletionLength), verl: [], trl: [], verlNote: 'dr_grpo\'s denominator is data.max_response_length', trlNote: 'dr_grpo\'s denominator is max_completion_length' },
    {
      ours: 'grpo.scaleRewards', value: g.scaleRewards,
      verl: g.scaleRewards === 'batch' ? [] : [['algorithm.norm_adv_by_std_in_grpo', g.scaleRewards === 'group' ? 'True' : 'False']],
      trl: [['scale_rewards', py(g.scaleRewards)]],
      verlNote: g.scaleRewards === 'batch' ? 'no counterpart: verl divides by the group\'s std or by nothing' : undefined,
    },
    {
      ours: 'grpo.advantageEps', value: num(g.advantageEps), verl: [], trl: [],
      verlNote: g.advantageEps === 1e-6 ? 'verl adds 1e-6, as here' : 'no counterpart: verl adds 1e-6 to the std',
      trlNote: g.advantageEps === 1e-4 ? 'TRL adds 1e-4, as here' : 'no counterpart: TRL adds 1e-4 to the std',
    },
    { ours: 'grpo.schedule.lr', value: num(s.lr), verl: [['actor_rollout_ref.actor.optim.lr', num(s.lr)]], trl: [['learning_rate', num(s.lr)]] },
    scheduleRow(config),
    { ours: 'grpo.beta1, beta2', value: `${g.beta1}, ${g.beta2}`, verl: [['actor_rollout_ref.actor.optim.betas', `[${g.beta1},${g.beta2}]`]], trl: [['adam_beta1', num(g.beta1)], ['adam_beta2', num(g.beta2)]], verlNote: 'optim.betas is verl ≥ 0.5; older versions use AdamW\'s (0.9, 0.999)' },
    { ours: 'grpo.weightDecay', value: num(g.weightDecay), verl: [['actor_rollout_ref.actor.optim.weight_decay', num(g.weightDecay)]], trl: [['weight_decay', num(g.weightDecay)]] },
    { ours: 'grpo.maxGradNorm', value: num(g.maxGradNorm), verl: [['actor_rollout_ref.actor.grad_clip', num(g.maxGradNorm)]], trl: [['max_grad_norm', num(g.maxGradNorm)]] },
    { ours: 'grpo.recomputeActivations', value: String(g.recomputeActivations), verl: [['actor_rollout_ref.model.enable_gradient_checkpointing', hydra(g.recomputeActivations)]], trl: [['gradient_checkpointing', py(g.recomputeActivations)]] },
    { ours: 'grpo.steps', value: num(g.steps), verl: [['trainer.total_training_steps', num(g.steps)]], trl: [['max_steps', `${g.steps} * MINI_BATCHES * ${g.iterations}`]], trlNote: 'TRL counts optimizer steps: rollout steps × mini-batches × μ' },
    { ours: 'grpo.evalEvery', value: num(g.evalEvery), verl: g.evalEvery > 0 ? [['trainer.test_freq', num(g.evalEvery)]] : [['trainer.test_freq', '-1']], trl: g.evalEvery > 0 ? [['eval_strategy', '"steps"'], ['eval_steps', `${g.evalEvery} * MINI_BATCHES * ${g.iterations}`]] : [['eval_strategy', '"no"']] },
    { ours: 'grpo.evalSize', value: num(g.evalSize), verl: [], trl: [], verlNote: 'verl validates on the whole held-out file (greedy: val_kwargs.do_sample=False)', trlNote: 'TRL evaluates the whole held-out split' },
    { ours: 'grpo.checkpointEvery', value: num(g.checkpointEvery), verl: [['trainer.save_freq', g.checkpointEvery > 0 ? num(g.checkpointEvery) : '-1']], trl: [['save_steps', g.checkpointEvery > 0 ? `${g.checkpointEvery} * MINI_BATCHES * ${g.iterations}` : '10**9']] },
    { ours: 'grpo.seed', value: num(g.seed), verl: [['data.seed', num(g.seed)]], trl: [['seed', num(g.seed)]], verlNote: 'shuffles the data; sampling and initialisation draw differently in every engine', trlNote: 'sampling and initialisation draw differently in every engine' },
    { ours: 'reward', value: config.reward, verl: [['custom_reward_function.name', 'compute_score']], trl: [], verlNote: `toolcall_reward.py with REWARD = "${config.reward}"`, trlNote: `reward_funcs=[tool_call_reward] from toolcall_reward.py (REWARD = "${config.reward}")` },
    { ours: 'template', value: 'the run\'s', verl: [], trl: [], verlNote: 'baked into the prompts of the exported data', trlNote: 'baked into the prompts of the exported data' },
    loraRow(config),
  ];
  return rows;
}

function scheduleRow(config: TrainConfig): MappedSetting {
  const s = config.grpo.schedule;
  const warmup = s.warmupSteps ?? 0;
  const base: MappedSetting = { ours: 'grpo.schedule', value: s.kind + (warmup ? `, ${warmup} warm-up steps` : ''), verl: [], trl: [] };
  if (warmup) {
    base.verl.push(['actor_rollout_ref.actor.optim.lr_warmup_steps', num(warmup)]);
    base.trl.push(['warmup_steps', `${warmup} * MINI_BATCHES * ${config.grpo.iterations}`]);
  }
  if (s.kind === 'constant') {
    base.verl.push(['actor_rollout_ref.actor.optim.warmup_style', 'constant']);
    base.trl.push(['lr_scheduler_type', warmup ? '"constant_with_warmup"' : '"constant"']);
    return base;
  }
  const minRatio = (s.minLr ?? 0) / s.lr;
  if (s.kind === 'cosine') {
    base.verl.push(['actor_rollout_ref.actor.optim.warmup_style', 'cosine'], ['actor_rollout_ref.actor.optim.min_lr_ratio', num(minRatio)]);
    base.trl.push(['lr_scheduler_type', minRatio > 0 ? '"cosine_with_min_lr"' : '"cosine"']);
    if (minRatio > 0) base.trl.push(['lr_scheduler_kwargs', `{"min_lr": ${num(s.minLr!)}}`]);
  } else {
    base.verlNote = 'no counterpart: verl decays by cosine or not at all (constant set)';
    base.verl.push(['actor_rollout_ref.actor.optim.warmup_style', 'constant']);
    base.trl.push(['lr_scheduler_type', '"linear"']);
    if (minRatio > 0) base.trlNote = 'TRL\'s linear decay ends at 0, not at minLr';
  }
  base.trlNote ??= `decays over max_steps, not over schedule.totalSteps (${s.totalSteps})`;
  return base;
}

function loraRow(config: TrainConfig): MappedSetting {
  if (config.mode !== 'lora' || !config.lora) {
    return { ours: 'mode', value: 'full', verl: [], trl: [], verlNote: 'full fine-tuning (verl\'s default)', trlNote: 'full fine-tuning (no peft_config)' };
  }
  const modules = config.lora.targets.map((t) => PEFT_MODULE[t].split('.')[1]);
  return {
    ours: 'mode, lora', value: `lora r=${config.lora.rank} α=${config.lora.alpha} on ${config.lora.targets.join(',')}`,
    verl: [['actor_rollout_ref.model.lora_rank', num(config.lora.rank)], ['actor_rollout_ref.model.lora_alpha', num(config.lora.alpha)], ['actor_rollout_ref.model.target_modules', `[${modules.join(',')}]`]],
    trl: [['peft_config', `LoraConfig(r=${config.lora.rank}, lora_alpha=${py(config.lora.alpha)}, lora_dropout=0.0, bias="none", target_modules=${JSON.stringify(modules)}, task_type="CAUSAL_LM")`]],
    verlNote: 'verl ≥ 0.4 (LoRA with FSDP + vLLM)',
  };
}

/** The README's table of the mapping. */
export function settingsTable(rows: MappedSetting[]): string {
  const cell = (s: Setting[], note?: string) => [...s.map(([k, v]) => `\`${k}=${v}\``), ...(note ? [note] : [])].join('<br>') || '–';
  const lines = ['| this run | value | verl | TRL (GRPOConfig) |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| \`${r.ours}\` | ${r.value} | ${cell(r.verl, r.verlNote)} | ${cell(r.trl, r.trlNote)} |`);
  return lines.join('\n');
}
