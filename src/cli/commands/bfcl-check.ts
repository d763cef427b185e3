import { basename } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { readSourceText } from '../../data/node-files.ts';
import { parseRecords, type LoadError } from '../../data/load.ts';
import { isJsonObject } from '../../toolcall/json.ts';
import {
  categoryOfFileName,
  categoryOfId,
  isRelevanceCategory,
  parseBfclAnswers,
  parseBfclQuestions,
  scoreBfcl,
} from '../../toolcall/bfcl.ts';

function reportErrors(file: string, errors: LoadError[]): void {
  for (const e of errors) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
}

export const bfclCheck: CliCommand = {
  name: 'bfcl-check',
  summary: 'check BFCL v3 results with the AST checker; one line per entry, then the category summary',
  usage: 'bfcl-check --questions FILE --results FILE [--answers FILE] [--category NAME]',
  async run(argv) {
    const args = parseCommandArgs(argv, {
      questions: { type: 'string' },
      answers: { type: 'string' },
      results: { type: 'string' },
      category: { type: 'string' },
    });
    const questionsPath = requireString(args, 'questions');
    const resultsPath = requireString(args, 'results');
    const questions = parseBfclQuestions(await readSourceText(questionsPath));
    reportErrors(questionsPath, questions.errors);
    const category =
      (args.category as string | undefined) ??
      categoryOfFileName(basename(questionsPath)) ??
      (questions.records[0] ? categoryOfId(questions.records[0].id) : undefined);
    if (!category) throw new UsageError('cannot tell the category from the file name: pass --category');

    let answers;
    if (!isRelevanceCategory(category)) {
      if (typeof args.answers !== 'string') throw new UsageError(`--answers is required for the ${category} category`);
      const parsed = parseBfclAnswers(await readSourceText(args.answers));
      reportErrors(args.answers, parsed.errors);
      answers = parsed.records;
    }

    // Results: {"id", "result": "<raw completion text>"} per line.
    const results = parseRecords(await readSourceText(resultsPath), (value) => {
      if (!isJsonObject(value) || typeof value.id !== 'string' || typeof value.result !== 'string') {
        throw new Error('result needs a string id and a string result');
      }
      return { id: value.id, result: value.result };
    });
    reportErrors(resultsPath, results.errors);

    const { entries, score } = scoreBfcl(category, questions.records, answers, results.records);
    for (const e of entries) process.stdout.write(JSON.stringify({ id: e.id, valid: e.valid, error: e.error }) + '\n');
    process.stdout.write(JSON.stringify(score) + '\n');
  },
};
