// The fuzz suite's tools: the CLI run in-process (as main.ts runs it: exit code, stdout, stderr), temp
// files, a seeded generator of inputs, and the check that no JavaScript error reaches the user.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'tests', 'fixtures', 'models');
export const TINY = join(ROOT, 'public', 'models', 'tiny');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run -s cli -- ...argv` in this process. */
export async function cli(argv: string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  try {
    const code = await main(argv);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** What a user must never see: a JavaScript error class, an engine message or a stack frame. */
const LEAK = /TypeError|RangeError|ReferenceError|Cannot read propert|Cannot convert|is not a function|is not iterable|undefined \(reading|Maximum call stack|Map maximum size|Invalid array length|^\s+at .+:\d+:\d+\)?$/m;

export function expectNoLeak(text: string): void {
  expect(text).not.toMatch(LEAK);
}

/** A failed run: the exit code, and stderr naming the problem; nothing on stdout for a usage error. */
export function expectFailure(r: CliResult, code: 1 | 2, message: string | RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expectNoLeak(r.stderr);
}

/** A fresh temp folder. */
export function tempDir(prefix = 'tooln1-fuzz-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes text (or lines joined by \n) and returns the path. */
export function writeText(dir: string, name: string, text: string | string[]): string {
  const path = join(dir, name);
  writeFileSync(path, Array.isArray(text) ? text.join('\n') + '\n' : text);
  return path;
}

/** A copy of a model folder, its config.json edited. */
export function modelCopy(from: string, editConfig?: (c: Record<string, unknown>) => void): string {
  const dir = tempDir('tooln1-model-');
  cpSync(from, dir, { recursive: true });
  if (editConfig) {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    editConfig(config);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  }
  return dir;
}

/** Values of the wrong kind, for a field that wants `kind`. */
export function wrongKinds(kind: 'string' | 'number' | 'integer' | 'list' | 'object' | 'boolean'): unknown[] {
  const all: Record<string, unknown[]> = {
    string: [null, 1, true, [], {}],
    number: [null, '1', true, [], {}],
    integer: [null, '1', 1.5, -1, true, []],
    list: [null, 'x', 1, {}],
    object: [null, 'x', 1, []],
    boolean: [null, 'true', 1, []],
  };
  return all[kind];
}

/** JSON nested `depth` levels deep: [[[...]]] or {"a":{"a":...}}. */
export function deepJson(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}
