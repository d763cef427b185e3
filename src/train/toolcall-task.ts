// The tool-calling task of the method: instances rendered with the thinking template, scored by one of
// the paper's rule-based rewards on the completion text (special tokens kept).
import type { Instance } from '../data/instance.ts';
import type { QwenTokenizer } from '../model/tokenizer.ts';
import { REWARDS, type RewardName } from '../toolcall/reward.ts';
import { DEFAULT_TEMPLATE, renderPrompt, type TemplateOptions } from '../toolcall/template.ts';
import type { RlExample, RlTask } from './task.ts';

export interface ToolCallExample extends RlExample {
  instance: Instance;
}

export interface ToolCallTaskOptions {
  reward: RewardName;
  template?: TemplateOptions;
  /** prompts longer than this are dropped (the paper drops prompts over 4096 tokens) */
  maxPromptTokens: number;
}

export interface ToolCallTask extends RlTask<ToolCallExample> {
  /** ids of the instances dropped for length, per split */
  dropped: { train: string[]; heldout: string[] };
}

export function toolCallTask(tokenizer: QwenTokenizer, train: Instance[], heldout: Instance[], opts: ToolCallTaskOptions): ToolCallTask {
  const reward = REWARDS[opts.reward];
  const dropped = { train: [] as string[], heldout: [] as string[] };
  const encode = (split: 'train' | 'heldout', list: Instance[]): ToolCallExample[] =>
    list.flatMap((instance) => {
      const promptIds = tokenizer.encode(renderPrompt(instance, opts.template ?? DEFAULT_TEMPLATE));
      if (promptIds.length > opts.maxPromptTokens) {
        dropped[split].push(instance.id);
        return [];
      }
      return [{ id: instance.id, promptIds, instance }];
    });
  const task: ToolCallTask = {
    train: encode('train', train),
    heldout: encode('heldout', heldout),
    dropped,
    eosIds: tokenizer.eosIds,
    decode: (ids) => tokenizer.decode(ids),
    formatSignal: 'thinkTags',
    reward: (completion, example) => {
      const r = reward(completion, example.instance.answers);
      return { reward: r.reward, signals: { ...r.signals } };
    },
  };
  if (task.train.length === 0) throw new Error(`every training prompt is longer than ${opts.maxPromptTokens} tokens`);
  return task;
}
