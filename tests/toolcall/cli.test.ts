import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { score } from '../../src/cli/commands/score.ts';
import { bfclCheck } from '../../src/cli/commands/bfcl-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'tooln1-cli-'));
const file = (name: string, lines: string[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
};

/** Runs a command and returns its stdout lines parsed as JSON; `fails`: it must end with that error (after its output). */
async function run(command: typeof score, argv: string[], fails?: RegExp): Promise<unknown[]> {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  if (fails) await expect(command.run(argv)).rejects.toThrow(fails);
  else await command.run(argv);
  return out.join('').trim().split('\n').map((l) => JSON.parse(l));
}

afterEach(() => vi.restoreAllMocks());

describe('cli score', () => {
  const cases = file('cases.jsonl', [
    '{"completion": "<think>a</think><tool_call>[{\\"name\\": \\"f\\", \\"arguments\\": {\\"x\\": 1.0}}]</tool_call>", "ground_truth": [{"name": "f", "arguments": {"x": 1.0}}]}',
    JSON.stringify({ completion: '<think>a</think><tool_call>[{"name": "f", "arguments": {"x": 1}}]</tool_call>', ground_truth: [{ name: 'f', arguments: { x: 1 } }] }),
    '{"completion": "no call", "ground_truth": [{"name": "f"}]}',
    'not json',
  ]);

  it('prints one line per case, error lines for malformed ones', async () => {
    expect(await run(score, ['--in', cases], /2 of 4 cases could not be scored/)).toEqual([
      { reward: 1, toolCallFound: true, jsonParsed: true, thinkTags: true, namesMatch: true, exactMatch: true },
      { reward: 1, toolCallFound: true, jsonParsed: true, thinkTags: true, namesMatch: true, exactMatch: true },
      { error: 'ground_truth[0].arguments must be an object', line: 3 },
      { error: expect.any(String), line: 4 },
    ]);
  });

  it('keeps the ground truth int/float spelling and takes --reward', async () => {
    const mixed = file('mixed.jsonl', ['{"completion": "<tool_call>[{\\"name\\": \\"f\\", \\"arguments\\": {\\"x\\": 1}}]</tool_call>", "ground_truth": [{"name": "f", "arguments": {"x": 1.0}}]}']);
    expect(await run(score, ['--in', mixed, '--reward', 'partial_names'])).toEqual([
      { reward: 0.2, toolCallFound: true, jsonParsed: true, thinkTags: false, namesMatch: true, exactMatch: false },
    ]);
    await expect(score.run(['--in', mixed, '--reward', 'nope'])).rejects.toThrow('unknown reward');
  });
});

describe('cli bfcl-check', () => {
  const doc = { name: 'area', description: 'Area.', parameters: { type: 'dict', properties: { base: { type: 'integer' } }, required: ['base'] } };
  const questions = file('BFCL_v3_simple.json', [0, 1].map((i) => JSON.stringify({ id: `simple_${i}`, question: [[{ role: 'user', content: 'q' }]], function: [doc] })));
  const answers = file('answers.json', [0, 1].map((i) => JSON.stringify({ id: `simple_${i}`, ground_truth: [{ area: { base: [10] } }] })));
  const call = (base: string) => `<tool_call>[{"name": "area", "arguments": {"base": ${base}}}]</tool_call>`;
  const results = file('results.jsonl', [JSON.stringify({ id: 'simple_0', result: call('10') }), JSON.stringify({ id: 'simple_1', result: call('10.0') })]);

  it('prints one line per entry and the summary, the category taken from the file name', async () => {
    expect(await run(bfclCheck, ['--questions', questions, '--answers', answers, '--results', results])).toEqual([
      { id: 'simple_0', valid: true, error: null },
      { id: 'simple_1', valid: false, error: 'type_error:simple' },
      { category: 'simple', accuracy: 0.5, correct: 1, total: 2 },
    ]);
  });

  it('needs no answers for irrelevance', async () => {
    expect(await run(bfclCheck, ['--questions', questions, '--results', results, '--category', 'irrelevance'])).toEqual([
      { id: 'simple_0', valid: false, error: 'irrelevance_error:decoder_success' },
      { id: 'simple_1', valid: false, error: 'irrelevance_error:decoder_success' },
      { category: 'irrelevance', accuracy: 0, correct: 0, total: 2 },
    ]);
    await expect(bfclCheck.run(['--questions', questions, '--results', results])).rejects.toThrow('--answers is required');
  });

  it('divides by the questions: one without a result counts as wrong and is reported', async () => {
    const one = file('one.jsonl', [JSON.stringify({ id: 'simple_0', result: call('10') }), '{"id": "simple_1", "result": 3}']);
    expect(await run(bfclCheck, ['--questions', questions, '--answers', answers, '--results', one], /1 unreadable lines/)).toEqual([
      { id: 'simple_0', valid: true, error: null },
      { id: 'simple_1', valid: false, error: 'missing_result' },
      { category: 'simple', accuracy: 0.5, correct: 1, total: 2 },
    ]);
    await expect(bfclCheck.run(['--questions', questions, '--results', results, '--category', 'simpel'])).rejects.toThrow('--category "simpel" is not a BFCL v3 single-turn category');
  });
});
