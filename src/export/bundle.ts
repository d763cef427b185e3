// export-run's folder for one engine: the data, the reward module, the launch script and a README with the
// settings mapping. Browser-safe: the caller writes the files (the CLI to disk, the studio as downloads) and
// adds the starting policy's weights under model/.
import type { Instance } from '../data/instance.ts';
import type { TrainConfig } from '../train/config.ts';
import type { ChatMessage } from '../toolcall/template.ts';
import { trlJsonl, trlRows, verlParquet, verlRows } from './dataset.ts';
import { mapSettings, settingsTable, type MappedSetting } from './settings.ts';

export const ENGINES = ['verl', 'trl'] as const;
export type Engine = (typeof ENGINES)[number];

export const REWARD_MODULE = 'toolcall_reward.py';

export interface BundleFile {
  /** path inside the export folder */
  name: string;
  data: Uint8Array | string;
  executable?: boolean;
}

export interface BundleInputs {
  engine: Engine;
  config: TrainConfig;
  /** the config file the run came from, for the README */
  configLabel: string;
  train: Instance[];
  heldout: Instance[];
  /** an instance's prompt as chat messages, the run's template applied */
  messages: (i: Instance) => ChatMessage[];
  /** src/export/python/toolcall_reward.py */
  rewardSource: string;
  /** where the starting policy is: the export's model/ folder, or a Hub repo the engines download */
  policy: { folder: string; what: string } | { hub: string };
  /** true when the model is stored in bfloat16 (mixed precision to match) */
  bf16: boolean;
  /** what the export had to say (dropped prompts, the chat-template check) */
  notes: string[];
}

/** The reward module with the run's variant as its default. */
export function rewardModule(source: string, reward: string): string {
  const line = /^REWARD = "[a-z_]+"$/m;
  if (!line.test(source)) throw new Error(`${REWARD_MODULE}: no REWARD = "..." line to set`);
  return source.replace(line, `REWARD = "${reward}"`);
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function verlScript(inp: BundleInputs, rows: MappedSetting[]): string {
  const g = inp.config.grpo;
  const model = 'folder' in inp.policy ? `"$HERE/${inp.policy.folder}"` : JSON.stringify(inp.policy.hub);
  const fixed: [string, string][] = [
    ['algorithm.adv_estimator', 'grpo'],
    ['algorithm.use_kl_in_reward', 'False'],
    ['actor_rollout_ref.actor.entropy_coeff', '0'],
    ['actor_rollout_ref.rollout.name', 'vllm'],
    ['actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu', String(g.microBatch)],
    ['actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu', String(g.microBatch)],
    ['actor_rollout_ref.rollout.val_kwargs.do_sample', 'False'],
    ['data.truncation', 'error'],
    ['trainer.project_name', 'tool-n1-studio'],
    ['trainer.logger', '[console]'],
  ];
  const overrides = [...fixed, ...rows.flatMap((r) => r.verl)].map(([k, v]) => `  ${shellQuote(`${k}=${v}`)} \\`);
  return `#!/usr/bin/env bash
# GRPO on verl with the settings of ${inp.configLabel} (written by Tool-N1 Studio's export-run; README.md
# maps every setting). Extra Hydra overrides go after the script's name, e.g. trainer.n_gpus_per_node=8.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MODEL="\${MODEL:-${model}}"
N_GPUS="\${N_GPUS:-1}"
python3 -m verl.trainer.main_ppo \\
  "data.train_files=$HERE/data/train.parquet" \\
  "data.val_files=$HERE/data/test.parquet" \\
  "actor_rollout_ref.model.path=$MODEL" \\
  "custom_reward_function.path=$HERE/${REWARD_MODULE}" \\
  "trainer.n_gpus_per_node=$N_GPUS" \\
  'trainer.nnodes=1' \\
${overrides.join('\n')}
  "$@"
`;
}

function trlScript(inp: BundleInputs, rows: MappedSetting[]): string {
  const g = inp.config.grpo;
  const all = rows.flatMap((r) => r.trl);
  const peft = all.find(([k]) => k === 'peft_config');
  const settings = all.filter(([k]) => k !== 'peft_config').map(([k, v]) => `    ${k}=${v},`);
  const model = 'folder' in inp.policy ? `os.path.join(HERE, ${JSON.stringify(inp.policy.folder)})` : JSON.stringify(inp.policy.hub);
  const evalSet = g.evalEvery > 0 ? 'data["test"]' : 'None';
  return `#!/usr/bin/env python3
"""GRPO on TRL with the settings of ${inp.configLabel} (written by Tool-N1 Studio's export-run; README.md maps
every setting). Launch on N GPUs with: accelerate launch --num_processes N train_trl.py [--model PATH]"""
import argparse
import os
import sys

from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer
${peft ? 'from peft import LoraConfig\n' : ''}
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from toolcall_reward import tool_call_reward  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=${model})
parser.add_argument("--output-dir", default=os.path.join(HERE, "trl-output"))
args = parser.parse_args()

# The run's batch: ${g.promptsPerStep} prompts × ${g.groupSize} completions per rollout step, split into MINI_BATCHES
# optimizer steps; each optimizer step accumulates gradients over the devices and micro-batches.
PROMPTS_PER_STEP, GROUP_SIZE, MINI_BATCHES, MICRO_BATCH = ${g.promptsPerStep}, ${g.groupSize}, ${g.miniBatches}, ${g.microBatch}
WORLD_SIZE = int(os.environ.get("WORLD_SIZE", "1"))
per_update = PROMPTS_PER_STEP * GROUP_SIZE // MINI_BATCHES
if (PROMPTS_PER_STEP * GROUP_SIZE) % MINI_BATCHES or per_update % (MICRO_BATCH * WORLD_SIZE):
    sys.exit(f"{per_update} completions per optimizer step do not split into {WORLD_SIZE} devices × {MICRO_BATCH}; change MICRO_BATCH")
GRAD_ACCUM = per_update // (MICRO_BATCH * WORLD_SIZE)

data = load_dataset("json", data_files={"train": os.path.join(HERE, "data", "train.jsonl"), "test": os.path.join(HERE, "data", "test.jsonl")})
config = GRPOConfig(
    output_dir=args.output_dir,
    gradient_accumulation_steps=GRAD_ACCUM,
${settings.join('\n')}
    bf16=${inp.bf16 ? 'True' : 'False'},
    model_init_kwargs={"torch_dtype": "auto"},
    log_completions=True,
    report_to="none",
)
trainer = GRPOTrainer(
    model=args.model,
    reward_funcs=[tool_call_reward],
    args=config,
    train_dataset=data["train"],
    eval_dataset=${evalSet},${peft ? `\n    peft_config=${peft[1]},` : ''}
)
trainer.train()
trainer.save_model(args.output_dir)
`;
}

function readme(inp: BundleInputs, rows: MappedSetting[]): string {
  const c = inp.config;
  const policy = 'folder' in inp.policy
    ? `\`${inp.policy.folder}/\`: ${inp.policy.what} (Hugging Face layout, in the base model's dtype)`
    : `the Hub repo \`${inp.policy.hub}\` (downloaded by the engine; not copied here)`;
  const launch = inp.engine === 'verl'
    ? ['```sh', 'N_GPUS=8 bash run_verl.sh                 # extra Hydra overrides may follow', 'MODEL=/path/to/Qwen2.5-7B-Instruct bash run_verl.sh   # the same recipe on a bigger model', '```']
    : ['```sh', 'accelerate launch --num_processes 8 train_trl.py', 'accelerate launch --num_processes 8 train_trl.py --model Qwen/Qwen2.5-7B-Instruct', '```'];
  const data = inp.engine === 'verl'
    ? '`data/train.parquet`, `data/test.parquet`: Tool-N1\'s row layout (`data_source`, `prompt` as chat messages, `ability`, `reward_model` {`style`: "rule", `ground_truth`: the calls as JSON text}, `extra_info` {`split`, `index`, `id`})'
    : '`data/train.jsonl`, `data/test.jsonl`: a conversational `prompt` column, the `ground_truth` column (the calls as JSON text) that `tool_call_reward` reads, and the instance `id`';
  const back = inp.engine === 'verl'
    ? 'merge the actor checkpoint to Hugging Face weights with verl\'s model merger, then `npm run -s cli -- eval --model MERGED_DIR ...`'
    : 'a full run\'s `trl-output/` loads with `npm run -s cli -- eval --model trl-output ...`; a LoRA run\'s with `--model BASE --adapter trl-output`';
  return `# ${inp.engine === 'verl' ? 'verl' : 'TRL'} hand-over of ${inp.configLabel}

Written by Tool-N1 Studio's \`export-run --for ${inp.engine}\`: the same prompts, reward and settings as the
studio's run, ready for a distributed engine.

- ${data}; ${inp.train.length} training and ${inp.heldout.length} held-out prompts, rendered with the run's template.
- \`${REWARD_MODULE}\`: the run's reward (\`${c.reward}\`), standard library only. verl calls
  \`compute_score(data_source, solution_str, ground_truth, extra_info)\`; TRL calls
  \`tool_call_reward(completions, ground_truth, **kwargs)\`. \`python3 ${REWARD_MODULE} CASES.jsonl\` scores a file
  of \`{"completion", "ground_truth"}\` lines like the studio's \`score\` command.
- \`${inp.engine === 'verl' ? 'run_verl.sh' : 'train_trl.py'}\`: the launch script.
- The starting policy: ${policy}.

${launch.join('\n')}

The prompts are chat messages; both engines render them with the model's chat template. For Qwen2.5's
template that is exactly the studio's ChatML text (the system turn holds the tools, so the template's own tool
block is not used).

To bring the result back into the studio: ${back}.

## Settings

${settingsTable(rows)}

Not carried over: the studio's sampling stream (seeded differently in every engine) and its browser-sized
batch, unless you keep it: scale \`data.train_batch_size\` / \`PROMPTS_PER_STEP\` up for the paper's 1024 prompts
per step.
${inp.notes.length ? `\n## Notes\n\n${inp.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
}

/** Every file of the export except the policy's weights. */
export function exportBundle(inp: BundleInputs): BundleFile[] {
  const rows = mapSettings(inp.config);
  const files: BundleFile[] = [{ name: REWARD_MODULE, data: rewardModule(inp.rewardSource, inp.config.reward) }];
  if (inp.engine === 'verl') {
    files.push(
      { name: 'data/train.parquet', data: verlParquet(verlRows(inp.train, 'train', inp.messages)) },
      { name: 'data/test.parquet', data: verlParquet(verlRows(inp.heldout, 'test', inp.messages)) },
      { name: 'run_verl.sh', data: verlScript(inp, rows), executable: true },
    );
  } else {
    files.push(
      { name: 'data/train.jsonl', data: trlJsonl(trlRows(inp.train, inp.messages)) },
      { name: 'data/test.jsonl', data: trlJsonl(trlRows(inp.heldout, inp.messages)) },
      { name: 'train_trl.py', data: trlScript(inp, rows), executable: true },
    );
  }
  files.push({ name: 'README.md', data: readme(inp, rows) });
  return files;
}
