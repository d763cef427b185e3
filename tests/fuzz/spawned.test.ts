// The few fuzz cases run as real processes: exit codes as the shell sees them (0 only for valid input, 1 for
// bad input, 2 for bad usage) and no stack trace on stderr. Everything else runs in-process (cli.test.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, deepJson, expectNoLeak, tempDir, writeText } from './harness.ts';

const dir = tempDir();
const spawnCli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TOOLN1_DEBUG: '' } });

describe('spawned CLI', () => {
  const ok = JSON.stringify({ completion: '<think>a</think><tool_call>[{"name": "f", "arguments": {}}]</tool_call>', ground_truth: [{ name: 'f', arguments: {} }] });
  it.each([
    ['valid cases: exit 0', ['score', '--in', writeText(dir, 'ok.jsonl', [ok, ok])], 0, ''],
    ['a line nested 1 000 000 deep among valid ones: exit 1 after scoring the rest', ['score', '--in', writeText(dir, 'deep.jsonl', [ok, deepJson(1_000_000), ok])], 1, 'score: 1 of 3 cases could not be scored'],
    ['ids outside the vocabulary: exit 1', ['logits', '--model', join(FIXTURES, 'gqa-untied-f32'), '--ids', '1,96', '--out', join(dir, 'l.json')], 1, 'logits: --ids: token id 96 at position 1 is outside the vocabulary (0..95)'],
    ['a fractional --n: exit 2', ['generate', '--model', join(FIXTURES, 'gqa-untied-f32'), '--ids', '1', '--n', '1.5'], 2, 'generate: --n must be a whole number ≥ 1, got 1.5'],
  ] as [string, string[], number, string][])('%s', (_, args, code, message) => {
    const r = spawnCli(args);
    expect(r.status, r.stderr).toBe(code);
    expect(r.stderr).toContain(message);
    expectNoLeak(r.stderr);
    if (args[0] === 'score') expect(r.stdout.trim().split('\n')).toHaveLength(code === 0 ? 2 : 3);
  });
});
