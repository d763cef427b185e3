// Tiny helpers over node:util parseArgs shared by every CLI command.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export class UsageError extends Error {}

export function parseCommandArgs(argv: string[], options: OptionSpec): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`missing required option --${name}`);
  return v;
}

export function optionalNumber(values: Record<string, unknown>, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${String(v)}`);
  return n;
}

export function parseIdList(text: string, name: string): number[] {
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new UsageError(`--${name} must be a comma-separated list of non-negative integers`);
  }
  return ids;
}

/** A whole-number option (≥ min); fractions, negatives and non-numbers are usage errors. */
export function optionalWhole(values: Record<string, unknown>, name: string, fallback: number, min = 0): number {
  const n = optionalNumber(values, name, fallback);
  if (!(Number.isSafeInteger(n) && n >= min)) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got ${String(values[name])}`);
  return n;
}
