// The Benchmarks tab's engine side: read a suite from the user's files, a URL or the synthetic generator,
// run it through the shared evaluation runner on a model the Worker holds, and sum it up the benchmark's way.
import { SYNTHETIC_LEVELS, generateSynthetic } from '../data/synthetic.ts';
import { runEvaluation, type EvalItem, type EvalProgress } from '../eval/runner.ts';
import { aggregateBench, instanceSuite, limitPerCategory, loadApiBankSuite, loadBfclSuite, urlFiles, type Bench, type EvalSuite, type FileReader } from '../eval/suites.ts';
import type { Decoder } from './ort-backends.ts';
import type { BenchArgs, BenchFile, BenchReport, BenchSource, EntryDetail } from './protocol.ts';

export interface BenchHooks {
  onStart(bench: Bench, total: number, errors: string[]): void;
  onProgress(p: EvalProgress, details: Record<string, EntryDetail>): void;
  /** the running batch's decoding, a few times a second at most */
  onDecode?(token: number, of: number): void;
}

/** How often the running batch's token count is reported. */
const DECODE_REPORT_MS = 250;

export class Benchmarks {
  private abort: AbortController | null = null;

  /** On the decoder's model: the engine's loaded model or trained policy, or onnxruntime-web's. */
  async run(decoder: Decoder, args: BenchArgs, hooks: BenchHooks): Promise<BenchReport> {
    checkBenchArgs(args);
    const suite = await loadSuite(args.source);
    const items = args.limit > 0 ? limitPerCategory(suite.items, args.limit) : suite.items;
    hooks.onStart(suite.bench, items.length, suite.errors);
    const byId = new Map(items.map((item) => [item.id, item]));
    let reported = 0;
    const abort = new AbortController();
    this.abort = abort;
    try {
      const run = await runEvaluation(decoder.generator, decoder.tokenizer, items, {
        maxNewTokens: args.maxNewTokens,
        batchSize: args.batchSize,
        onProgress: (p) => hooks.onProgress(p, Object.fromEntries(p.entries.map((e) => [e.id, detailOf(byId.get(e.id))]))),
        onDecode: (token, of) => {
          if (performance.now() - reported < DECODE_REPORT_MS) return;
          reported = performance.now();
          hooks.onDecode?.(token, of);
        },
        signal: abort.signal,
      });
      return { bench: suite.bench, model: decoder.label, run, aggregate: aggregateBench(suite.bench, run.categories) };
    } finally {
      this.abort = null;
    }
  }

  /** Ends the running benchmark after its current batch; false when none runs. */
  stop(): boolean {
    this.abort?.abort();
    return this.abort !== null;
  }
}

/** The synthetic generator's largest suite: more would only make the tab run for hours. */
const MAX_SYNTHETIC = 100_000;

/** Settings out of range are refused before anything is read or decoded. */
function checkBenchArgs(args: BenchArgs): void {
  const whole = (name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!(Number.isSafeInteger(v) && v >= min && v <= max)) throw new Error(`${name} must be a whole number in ${min}..${max}, got ${v}`);
  };
  whole('limit', args.limit, 0);
  whole('maxNewTokens', args.maxNewTokens, 1);
  whole('batchSize', args.batchSize, 1);
  const s = args.source;
  if (s.bench === 'synthetic') {
    if (!Object.hasOwn(SYNTHETIC_LEVELS, s.level)) throw new Error(`unknown synthetic level "${s.level}" (known: ${Object.keys(SYNTHETIC_LEVELS).join(', ')})`);
    whole('count', s.count, 1, MAX_SYNTHETIC);
    whole('seed', s.seed, 0);
  }
}

function loadSuite(source: BenchSource): Promise<EvalSuite> {
  if (source.bench === 'synthetic') {
    return Promise.resolve(instanceSuite(generateSynthetic({ level: source.level, split: 'heldout', seed: source.seed, count: source.count })));
  }
  const read = 'url' in source ? urlFiles(source.url) : pickedFiles(source.files);
  return source.bench === 'bfcl' ? loadBfclSuite(read) : loadApiBankSuite(read, apiBankLevels(source));
}

/** Picked files by their path in the benchmark folder, wherever in the picked folder they sit. */
export function pickedFiles(files: BenchFile[]): FileReader {
  const byPath = new Map(files.map((f) => [benchPath(f.path), f.file]));
  return async (path) => (await byPath.get(path)?.text()) ?? null;
}

/** "data/bfcl/possible_answer/BFCL_v3_simple.json" → "possible_answer/BFCL_v3_simple.json"; others: the name. */
export function benchPath(path: string): string {
  const parts = path.split('/');
  const name = parts[parts.length - 1];
  return parts[parts.length - 2] === 'possible_answer' ? `possible_answer/${name}` : name;
}

/** Picked API-Bank files name their levels; a URL is tried for both. */
function apiBankLevels(source: BenchSource): string[] | undefined {
  if (!('files' in source)) return undefined;
  const levels = source.files.flatMap((f) => /^(level-[12])-api\.json$/.exec(benchPath(f.path))?.[1] ?? []);
  if (levels.length === 0) throw new Error('pick level-1-api.json and/or level-2-api.json (API-Bank test-data)');
  return levels;
}

function detailOf(item: EvalItem | undefined): EntryDetail {
  const question = item?.conversation?.turns.findLast((t) => t.role === 'user')?.content ?? '';
  return { question, expected: item?.expected ?? null };
}
