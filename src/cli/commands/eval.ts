import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, optionalNumber, parseCommandArgs, requireString } from '../args.ts';
import { openModel } from '../model.ts';
import { readTemplateFile } from '../template-file.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import { instantiateModel } from '../../model/instantiate.ts';
import { attachAdapter } from '../../model/adapter.ts';
import { Generator } from '../../model/generate.ts';
import { readSourceText } from '../../data/node-files.ts';
import { runEvaluation } from '../../eval/runner.ts';
import { checkDecodeSettings } from '../../model/inputs.ts';
import {
  BENCHES,
  aggregateBench,
  isUrl,
  limitPerCategory,
  openSuite,
  urlFiles,
  type Bench,
  type FileReader,
} from '../../eval/suites.ts';

/** Files of a folder on disk; a missing file is null, a missing folder an error naming `where` (a flag: a usage error). */
function dirFiles(dir: string, where: string): FileReader {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    const message = `${where} ${dir} is not a directory`;
    throw where.startsWith('--') ? new UsageError(message) : new Error(message);
  }
  return (file) =>
    readFile(join(dir, file), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
}

/** Benchmark files at a base URL or in a folder on disk (`where` names the setting in errors). */
export const benchFiles = (where: string) => (data: string): FileReader => (isUrl(data) ? urlFiles(data) : dirFiles(data, where));

function count(args: Record<string, unknown>, name: string, fallback: number): number {
  const n = optionalNumber(args, name, fallback);
  if (n !== fallback && !(Number.isInteger(n) && n >= 1)) throw new UsageError(`--${name} must be a whole number ≥ 1`);
  return n;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const evaluate: CliCommand = {
  name: 'eval',
  summary: 'evaluate a model on BFCL v3, API-Bank or the synthetic task; per-entry JSON Lines, then a summary JSON',
  usage:
    'eval --model DIR|embedded|hub:REPO [--adapter DIR] --bench bfcl|apibank|synthetic --data PATH|URL|LEVEL:SEED [--categories a,b] ' +
    '[--limit N] [--out FILE.jsonl] [--batch B] [--max-new-tokens N] [--max-prompt-tokens N] [--template FILE.json|FILE.txt] ' +
    '[--temperature T] [--seed S]',
  async run(argv) {
    const args = parseCommandArgs(argv, {
      model: { type: 'string' },
      adapter: { type: 'string' },
      bench: { type: 'string' },
      data: { type: 'string' },
      categories: { type: 'string' },
      limit: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      'max-prompt-tokens': { type: 'string' },
      template: { type: 'string' },
      temperature: { type: 'string' },
      seed: { type: 'string' },
    });
    const bench = requireString(args, 'bench') as Bench;
    if (!BENCHES.includes(bench)) throw new UsageError(`--bench must be one of ${BENCHES.join(', ')}`);
    const data = requireString(args, 'data');
    const categories = typeof args.categories === 'string' ? args.categories.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const maxNewTokens = count(args, 'max-new-tokens', 512);
    const batchSize = count(args, 'batch', 8);
    const limit = count(args, 'limit', Infinity);
    const maxPromptTokens = count(args, 'max-prompt-tokens', 4096);
    const template = typeof args.template === 'string' ? readTemplateFile(args.template) : undefined;
    const sampling = { temperature: optionalNumber(args, 'temperature', 0), topP: 1, topK: 0, seed: optionalNumber(args, 'seed', 0) };
    try {
      checkDecodeSettings({ n: 1, maxNewTokens, sampling }, { temperature: '--temperature', seed: '--seed' });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }

    const suite = await openSuite(bench, data, categories ?? null, benchFiles('--data'), readSourceText);
    // BFCL and API-Bank records that cannot be read count as wrong; an instance file's are left out (no category).
    const unreadable = bench === 'synthetic' ? 'left out' : 'counted as wrong';
    for (const e of suite.errors) process.stderr.write(`unreadable (${unreadable}) ${e}\n`);
    const items = limitPerCategory(suite.items, limit);
    if (items.length === 0) throw new Error('no items to evaluate');
    const { loaded, tokenizer, adapter } = await openModel(requireString(args, 'model'), typeof args.adapter === 'string' ? args.adapter : undefined);

    const rt = await createNodeRuntime();
    // Positions for the longest prompt kept (the paper's 4096) plus the answer; capped by the model itself.
    const model = instantiateModel(rt, loaded, { maxPositions: maxPromptTokens + maxNewTokens });
    const detach = adapter ? attachAdapter(rt, model, adapter) : undefined;
    const generator = new Generator(model);
    const out = typeof args.out === 'string' ? openSync(args.out, 'w') : null;
    const abort = new AbortController();
    const onSignal = () => {
      process.stderr.write('eval: stopping after the current batch\n');
      abort.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const label = adapter ? `${loaded.source} + LoRA ${adapter.source} (r=${adapter.rank}, ${adapter.pairs.length} matrices)` : loaded.source;
    process.stderr.write(`eval: ${items.length} ${bench} items on ${label} (${rt.info.vendor} ${rt.info.architecture})\n`);
    try {
      const result = await runEvaluation(generator, tokenizer, items, {
        template,
        maxNewTokens,
        batchSize,
        sampling,
        signal: abort.signal,
        onProgress: (p) => {
          if (out !== null) for (const e of p.entries) writeSync(out, JSON.stringify(e) + '\n');
          // The running accuracy is over every entry so far, of all categories: the line says so.
          const where = p.entries[p.entries.length - 1]?.category ?? '';
          process.stderr.write(
            `eval: ${p.done}/${p.total} (now ${where})  correct ${p.correct} of ${p.done} done, all categories (${pct(p.correct / p.done)})  ${p.tokensPerSec.toFixed(1)} tok/s\n`,
          );
        },
      });
      const summary = {
        model: loaded.source,
        ...(adapter ? { adapter: adapter.source } : {}),
        bench,
        data,
        entries: result.entries.length,
        stopped: result.stopped,
        categories: result.categories,
        aggregate: aggregateBench(bench, result.categories),
        settings: { maxNewTokens, batchSize, sampling, maxPositions: model.maxPositions },
        completionTokens: result.completionTokens,
        seconds: Math.round(result.ms) / 1000,
      };
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      if (suite.errors.length > 0) throw new Error(`${suite.errors.length} records of ${data} could not be read (listed above; ${unreadable})`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (out !== null) closeSync(out);
      generator.release();
      detach?.();
      model.release();
      rt.destroy();
    }
  },
};
