// Benchmarks as evaluation items: BFCL v3 (one category per file), API-Bank (Level-1 and Level-2 apart) and
// the embedded synthetic task, each judged by its own rule, plus the way each benchmark sums its categories
// up. Files are read through a FileReader: a folder on disk (the CLI) or a base URL (the studio). Browser-safe.

import { parseDataset } from '../data/datasets.ts';
import type { Instance } from '../data/instance.ts';
import { SYNTHETIC_LEVELS, generateSynthetic, type SyntheticLevel } from '../data/synthetic.ts';
import type { LoadError } from '../data/load.ts';
import { judgeApiBank, parseApiBank, type ApiBankLevel } from '../toolcall/apibank.ts';
import {
  BFCL_CATEGORIES,
  checkBfcl,
  isRelevanceCategory,
  parseBfclAnswers,
  parseBfclQuestions,
  summarizeBfcl,
  type BfclAnswer,
  type BfclSummary,
} from '../toolcall/bfcl.ts';
import { binaryReward } from '../toolcall/reward.ts';
import { pyDumps } from '../toolcall/json.ts';
import { toolCallBlock } from '../toolcall/template.ts';
import { UNREADABLE, type CategorySummary, type EvalItem, type Verdict } from './runner.ts';
import { fetchOrExplain, httpError } from '../util/fetch.ts';

export type Bench = 'bfcl' | 'apibank' | 'synthetic';
export const BENCHES: Bench[] = ['bfcl', 'apibank', 'synthetic'];

export interface EvalSuite {
  bench: Bench;
  items: EvalItem[];
  /** records that could not be read, as "file:line: message" */
  errors: string[];
}

/** A benchmark file by its path relative to the benchmark folder; null when there is no such file. */
export type FileReader = (file: string) => Promise<string | null>;

/** Files under a base URL (the upstream repositories' raw files, or files served next to the studio). */
export function urlFiles(base: string): FileReader {
  const root = base.endsWith('/') ? base : `${base}/`;
  return async (file) => {
    const res = await fetchOrExplain(root + file);
    if (res.status === 404) return null;
    if (!res.ok) throw httpError(root + file, res);
    return res.text();
  };
}

const located = (file: string, errors: LoadError[]) => errors.map((e) => `${file}:${e.line}: ${e.message}`);

/** Records that could not be read stay questions of their category: wrong, never out of the denominator. */
const unreadableItems = (file: string, category: string, errors: LoadError[]): EvalItem[] =>
  errors.map((e) => ({ id: `${file}:${e.line}`, category, conversation: null, judge: () => ({ correct: false, error: UNREADABLE }) }));

// ---- BFCL v3 --------------------------------------------------------------------------------------------

/**
 * BFCL_v3_<category>.json with possible_answer/BFCL_v3_<category>.json (none for the relevance categories).
 * `categories` defaults to every category whose question file is present.
 */
export async function loadBfclSuite(read: FileReader, categories?: string[]): Promise<EvalSuite> {
  const unknown = categories?.find((c) => !(BFCL_CATEGORIES as readonly string[]).includes(c));
  if (unknown) throw new Error(`unknown BFCL category "${unknown}" (known: ${BFCL_CATEGORIES.join(', ')})`);
  const items: EvalItem[] = [];
  const errors: string[] = [];
  for (const category of categories ?? BFCL_CATEGORIES) {
    const file = `BFCL_v3_${category}.json`;
    const text = await read(file);
    if (text === null) {
      if (categories) throw new Error(`${file} not found`);
      continue;
    }
    const questions = parseBfclQuestions(text);
    errors.push(...located(file, questions.errors));
    items.push(...unreadableItems(file, category, questions.errors));
    let answers: Map<string, BfclAnswer> | undefined;
    if (!isRelevanceCategory(category)) {
      const answerFile = `possible_answer/${file}`;
      const answerText = await read(answerFile);
      if (answerText === null) throw new Error(`${answerFile} not found (the ${category} category needs its possible answers)`);
      const parsed = parseBfclAnswers(answerText);
      errors.push(...located(answerFile, parsed.errors));
      answers = new Map(parsed.records.map((a) => [a.id, a]));
    }
    for (const question of questions.records) {
      const answer = answers?.get(question.id);
      const judge = (completion: string): Verdict => {
        if (answers && !answer) return { correct: false, error: 'missing_possible_answer' };
        const r = checkBfcl(category, question, answer, completion);
        return { correct: r.valid, error: r.error };
      };
      // As BFCL writes its possible answers: each call's acceptable values per parameter.
      const expected = answers ? (answer ? pyDumps(answer.calls.map((c) => ({ [c.name]: c.params }))) : undefined) : category.includes('irrelevance') ? 'no call' : 'a call';
      items.push({ id: question.id, category, conversation: question, expected, judge });
    }
  }
  if (items.length === 0) throw new Error('no BFCL_v3_<category>.json files found');
  return { bench: 'bfcl', items, errors };
}

// ---- API-Bank -------------------------------------------------------------------------------------------

export const API_BANK_LEVELS = ['level-1', 'level-2'] as const;

/** test-data/level-1-api.json (Call) and level-2-api.json (Retrieve+Call); `levels` defaults to both. */
export async function loadApiBankSuite(read: FileReader, levels: string[] = [...API_BANK_LEVELS]): Promise<EvalSuite> {
  const items: EvalItem[] = [];
  const errors: string[] = [];
  for (const category of levels) {
    const level = (API_BANK_LEVELS as readonly string[]).indexOf(category) + 1;
    if (level === 0) throw new Error(`unknown API-Bank level "${category}" (known: ${API_BANK_LEVELS.join(', ')})`);
    const file = `${category}-api.json`;
    const text = await read(file);
    if (text === null) throw new Error(`${file} not found`);
    const samples = parseApiBank(text, level as ApiBankLevel);
    errors.push(...located(file, samples.errors));
    items.push(...unreadableItems(file, category, samples.errors));
    for (const sample of samples.records) {
      items.push({ id: sample.id, category, conversation: sample, expected: toolCallBlock([sample.expected]), judge: (completion) => judgeApiBank(sample, completion) });
    }
  }
  return { bench: 'apibank', items, errors };
}

// ---- synthetic ------------------------------------------------------------------------------------------

/** What an instance asks for: no call, one call, or several. */
export function instanceCategory(instance: Instance): string {
  return instance.answers.length === 0 ? 'no_call' : instance.answers.length === 1 ? 'single' : 'parallel';
}

/**
 * Instances of the project's format (the synthetic generator's held-out split, or a file) judged by the
 * paper's binary reward; the reward's signals (exact match of the calls, think tags, ...) come along.
 */
export function instanceSuite(instances: Instance[], errors: string[] = []): EvalSuite {
  const items = instances.map((instance): EvalItem => ({
    id: instance.id,
    category: instanceCategory(instance),
    conversation: instance,
    expected: instance.answers.length ? toolCallBlock(instance.answers) : 'no call',
    judge: (completion) => {
      const { reward, signals } = binaryReward(completion, instance.answers);
      return { correct: reward === 1, error: reward === 1 ? null : failure(signals), signals: { ...signals } };
    },
  }));
  return { bench: 'synthetic', items, errors };
}

/** The first thing the binary reward found wrong. */
function failure(s: ReturnType<typeof binaryReward>['signals']): string {
  if (!s.toolCallFound) return 'no_tool_call';
  if (!s.jsonParsed) return 'invalid_json';
  if (!s.exactMatch) return s.namesMatch ? 'wrong_arguments' : 'wrong_calls';
  return 'missing_think_tags';
}

// ---- a suite by name ------------------------------------------------------------------------------------

/**
 * The suite `eval --bench B --data D --categories C` names: for BFCL and API-Bank, D is opened by `files` (a
 * folder, a base URL); for synthetic, "LEVEL:SEED" is the generator's held-out split and anything else a file
 * of the instance format read by `readText`. Shared by `eval`, `train`'s benchmark and the studio.
 */
export async function openSuite(
  bench: Bench, data: string, categories: string[] | null, files: (data: string) => FileReader, readText: (path: string) => Promise<string>,
): Promise<EvalSuite> {
  if (bench === 'synthetic') {
    const [level, seed] = data.split(':');
    const suite = Object.hasOwn(SYNTHETIC_LEVELS, level) && /^\d+$/.test(seed ?? '')
      ? instanceSuite(generateSynthetic({ level: level as SyntheticLevel, split: 'heldout', seed: Number(seed) }))
      : await readText(data).then((text) => {
          const parsed = parseDataset(text, 'instance');
          return instanceSuite(parsed.records, parsed.errors.map((e) => `${data}:${e.line}: ${e.message}`));
        });
    return categories ? { ...suite, items: suite.items.filter((i) => categories.includes(i.category)) } : suite;
  }
  const read = files(data);
  return bench === 'bfcl' ? loadBfclSuite(read, categories ?? undefined) : loadApiBankSuite(read, categories ?? undefined);
}

/** Files of a base URL (http or https); a folder needs the caller's file system. */
export const isUrl = (data: string) => /^https?:\/\//.test(data);

// ---- selecting and summing up ---------------------------------------------------------------------------

/** Whether a picked file (its path in the picked folder) is one of the benchmark's data files; others are ignored. */
export function isBenchDataFile(bench: Exclude<Bench, 'synthetic'>, path: string): boolean {
  const name = path.split('/').pop() ?? '';
  return bench === 'bfcl' ? /^BFCL_v3_\w+\.json$/.test(name) : /^level-[12]-api\.json$/.test(name);
}

/** The first `limit` items of each category. */
export function limitPerCategory(items: EvalItem[], limit: number): EvalItem[] {
  const seen = new Map<string, number>();
  return items.filter((item) => {
    const n = seen.get(item.category) ?? 0;
    seen.set(item.category, n + 1);
    return n < limit;
  });
}

/** How each benchmark sums its categories up. */
export type BenchAggregate =
  | BfclSummary
  /** Level-1 is the paper's "Call" mode; the levels are never mixed */
  | { level1: number | null; level2: number | null }
  /** mean reward over every entry (= accuracy: the reward is binary) and the share with exactly the right calls */
  | { meanReward: number; exactMatch: number };

export function aggregateBench(bench: Bench, categories: CategorySummary[]): BenchAggregate {
  const accuracy = (name: string) => categories.find((c) => c.category === name)?.accuracy ?? null;
  switch (bench) {
    case 'bfcl':
      return summarizeBfcl(categories);
    case 'apibank':
      return { level1: accuracy('level-1'), level2: accuracy('level-2') };
    case 'synthetic': {
      const total = categories.reduce((n, c) => n + c.total, 0);
      const weighted = (f: (c: CategorySummary) => number) => (total > 0 ? categories.reduce((n, c) => n + f(c) * c.total, 0) / total : NaN);
      return { meanReward: weighted((c) => c.accuracy), exactMatch: weighted((c) => c.rates?.exactMatch ?? 0) };
    }
  }
}
