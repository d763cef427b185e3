// The evaluation runner shared by the CLI and the studio: each item's conversation is rendered with the
// thinking template, a batch of prompts is decoded together (greedy unless told otherwise), every completion
// is judged by its benchmark's own rule, and the verdicts are summed up per category. Browser-safe.
// Benchmark records become items in suites.ts.

import type { BatchGenerator } from '../model/generate.ts';
import type { QwenTokenizer } from '../model/tokenizer.ts';
import type { SamplingParams } from '../ops/sample.ts';
import { DEFAULT_TEMPLATE, renderPrompt, type Conversation, type TemplateOptions } from '../toolcall/template.ts';

export interface Verdict {
  correct: boolean;
  /** why it is wrong, in the benchmark's words (BFCL's error_type, API-Bank's error, ...) */
  error?: string | null;
  /** further yes/no facts about the completion (synthetic: the reward's signals); averaged per category */
  signals?: Record<string, boolean>;
}

export interface EvalItem {
  id: string;
  category: string;
  /** null: the benchmark record could not be read; it counts as wrong (UNREADABLE), nothing is decoded */
  conversation: Conversation | null;
  /** the right answer as the benchmark states it, for people reading a wrong entry */
  expected?: string;
  judge(completion: string): Verdict;
}

export interface EvalEntry {
  id: string;
  category: string;
  /** decoded with special tokens kept, as the judges read it */
  completion: string;
  correct: boolean;
  error: string | null;
  promptTokens: number;
  completionTokens: number;
  signals?: Record<string, boolean>;
}

/** Per category; `accuracy` = correct / total, where prompts too long for the model count as wrong. */
export interface CategorySummary {
  category: string;
  accuracy: number;
  correct: number;
  total: number;
  skipped: number;
  /** share of the category's entries with each signal set */
  rates?: Record<string, number>;
}

export interface EvalProgress {
  done: number;
  total: number;
  correct: number;
  /** entries finished since the previous report, in item order within the batch */
  entries: EvalEntry[];
  tokensPerSec: number;
}

export interface EvalOptions {
  template?: TemplateOptions;
  /** default 512: room for a short reasoning block and a few calls */
  maxNewTokens?: number;
  /** prompts decoded together (default 8) */
  batchSize?: number;
  /** default greedy (temperature 0), as the paper evaluates */
  sampling?: SamplingParams;
  onProgress?: (p: EvalProgress) => void;
  /** after each decode step of the batch running: its token k (from 1) of at most maxNewTokens */
  onDecode?: (token: number, maxNewTokens: number) => void;
  /** aborting stops after the current batch; finished entries are kept */
  signal?: AbortSignal;
}

export interface EvalRun {
  entries: EvalEntry[];
  categories: CategorySummary[];
  stopped: boolean;
  ms: number;
  completionTokens: number;
}

export const GREEDY: SamplingParams = { temperature: 0, topP: 1, topK: 0, seed: 0 };
/** error of an item whose prompt plus maxNewTokens does not fit the model's positions */
export const PROMPT_TOO_LONG = 'prompt_too_long';
/** error of an item whose benchmark record could not be read: still a question, so still in the denominator */
export const UNREADABLE = 'unreadable_record';

export type EvalTokenizer = Pick<QwenTokenizer, 'encode' | 'decode' | 'eosIds'>;

export async function runEvaluation(generator: BatchGenerator, tokenizer: EvalTokenizer, items: EvalItem[], opts: EvalOptions = {}): Promise<EvalRun> {
  const maxNewTokens = opts.maxNewTokens ?? 512;
  const batchSize = opts.batchSize ?? 8;
  const template = opts.template ?? DEFAULT_TEMPLATE;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`evaluation batch size must be a whole number ≥ 1, got ${batchSize}`);
  const t0 = performance.now();
  const entries: (EvalEntry | undefined)[] = Array(items.length).fill(undefined);
  let done = 0;
  let correct = 0;
  let completionTokens = 0;
  const report = (fresh: EvalEntry[]) => {
    done += fresh.length;
    correct += fresh.filter((e) => e.correct).length;
    const seconds = (performance.now() - t0) / 1000;
    opts.onProgress?.({ done, total: items.length, correct, entries: fresh, tokensPerSec: completionTokens / seconds });
  };

  const prompts = items.map((item) => (item.conversation ? tokenizer.encode(renderPrompt(item.conversation, template)) : []));
  const fits = (i: number) => items[i].conversation !== null && prompts[i].length + maxNewTokens <= generator.model.maxPositions;
  const tooLong = items.flatMap((item, i): EvalEntry[] => {
    if (fits(i)) return [];
    const error = item.conversation ? PROMPT_TOO_LONG : UNREADABLE;
    return [(entries[i] = entryOf(item, prompts[i].length, '', 0, { correct: false, error }))];
  });
  if (tooLong.length > 0) report(tooLong);

  const sampling = opts.sampling ?? GREEDY;
  const runnable = items.map((_, i) => i).filter(fits);
  let stopped = false;
  for (let b = 0; b < runnable.length; b += batchSize) {
    if (opts.signal?.aborted) {
      stopped = true;
      break;
    }
    const batch = runnable.slice(b, b + batchSize);
    const out = await generator.generateBatch(batch.map((i) => prompts[i]), {
      n: 1,
      maxNewTokens,
      eosIds: tokenizer.eosIds,
      sampling: { ...sampling, seed: (sampling.seed + b) >>> 0 }, // batches draw different random streams
      onStep: opts.onDecode && ((step) => opts.onDecode!(step + 1, maxNewTokens)),
    });
    const fresh = batch.map((i, k) => {
      const ids = out.tokens[k];
      const completion = tokenizer.decode(ids);
      completionTokens += ids.length;
      return (entries[i] = entryOf(items[i], prompts[i].length, completion, ids.length, items[i].judge(completion)));
    });
    report(fresh);
  }
  const finished = entries.filter((e): e is EvalEntry => e !== undefined);
  return { entries: finished, categories: summarizeCategories(finished), stopped, ms: performance.now() - t0, completionTokens };
}

function entryOf(item: EvalItem, promptTokens: number, completion: string, completionTokens: number, v: Verdict): EvalEntry {
  const entry: EvalEntry = {
    id: item.id, category: item.category, completion, correct: v.correct, error: v.error ?? null, promptTokens, completionTokens,
  };
  if (v.signals) entry.signals = v.signals;
  return entry;
}

/** Categories in order of first appearance. */
export function summarizeCategories(entries: EvalEntry[]): CategorySummary[] {
  const groups = new Map<string, EvalEntry[]>();
  for (const e of entries) {
    if (!groups.has(e.category)) groups.set(e.category, []);
    groups.get(e.category)!.push(e);
  }
  return [...groups].map(([category, list]) => {
    const correct = list.filter((e) => e.correct).length;
    const summary: CategorySummary = {
      category, accuracy: correct / list.length, correct, total: list.length, skipped: list.filter((e) => e.error === PROMPT_TOO_LONG).length,
    };
    const names = [...new Set(list.flatMap((e) => Object.keys(e.signals ?? {})))];
    if (names.length > 0) summary.rates = Object.fromEntries(names.map((n) => [n, list.filter((e) => e.signals?.[n]).length / list.length]));
    return summary;
  });
}
