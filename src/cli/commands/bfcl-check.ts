import { basename } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { readSourceText } from '../../data/node-files.ts';
import { parseRecords, type LoadError } from '../../data/load.ts';
import { isJsonObject } from '../../toolcall/json.ts';
import {
  BFCL_CATEGORIES,
  MISSING_RESULT,
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
    if (!(BFCL_CATEGORIES as readonly string[]).includes(category)) {
      const from = typeof args.category === 'string' ? '--category' : `the category of ${questionsPath}`;
      throw new UsageError(`${from} "${category}" is not a BFCL v3 single-turn category (known: ${BFCL_CATEGORIES.join(', ')})`);
    }

    if (questions.records.length + questions.errors.length === 0) throw new Error(`${questionsPath}: no questions`);
    let answers;
    let answerErrors = 0;
    if (!isRelevanceCategory(category)) {
      if (typeof args.answers !== 'string') throw new UsageError(`--answers is required for the ${category} category`);
      const parsed = parseBfclAnswers(await readSourceText(args.answers));
      reportErrors(args.answers, parsed.errors);
      answers = parsed.records;
      answerErrors = parsed.errors.length;
    }

    // Results: {"id", "result": "<raw completion text>"} per line.
    const results = parseRecords(await readSourceText(resultsPath), (value) => {
      if (!isJsonObject(value) || typeof value.id !== 'string' || typeof value.result !== 'string') {
        throw new Error('result needs a string id and a string result');
      }
      return { id: value.id, result: value.result };
    });
    reportErrors(resultsPath, results.errors);

    // The denominator is every question: one without a result (missing, unreadable) counts as wrong.
    const scored = scoreBfcl(category, questions.records, answers, results.records, questions.errors.length);
    for (const id of scored.unknownIds) process.stderr.write(`${resultsPath}: result for "${id}", which is not a question in ${questionsPath}: ignored\n`);
    for (const id of scored.duplicateIds) process.stderr.write(`${resultsPath}: more than one result for "${id}": the first one is scored\n`);
    const missing = scored.entries.filter((e) => e.error === MISSING_RESULT).map((e) => e.id);
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length - 5} more)` : '');
      process.stderr.write(`${resultsPath}: no result for ${missing.length} of ${questions.records.length} questions, counted as wrong: ${shown}\n`);
    }
    if (questions.errors.length > 0) process.stderr.write(`${questionsPath}: ${questions.errors.length} unreadable questions counted as wrong\n`);
    for (const e of scored.entries) process.stdout.write(JSON.stringify({ id: e.id, valid: e.valid, error: e.error }) + '\n');
    for (const e of questions.errors) process.stdout.write(JSON.stringify({ id: null, line: e.line, valid: false, error: 'unreadable_question' }) + '\n');
    process.stdout.write(JSON.stringify(scored.score) + '\n');
    const unreadable = questions.errors.length + results.errors.length + answerErrors;
    if (unreadable > 0) throw new Error(`${unreadable} unreadable lines (listed above); the score counts them as wrong`);
  },
};
