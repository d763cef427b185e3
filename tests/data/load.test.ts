import { describe, expect, it } from 'vitest';
import { parseRecords, splitRecords } from '../../src/data/load.ts';
import { isJsonObject } from '../../src/toolcall/json.ts';

const needsName = (value: unknown) => {
  if (!isJsonObject(value) || typeof value.name !== 'string') throw new Error('no name');
  return value.name;
};

describe('dataset records', () => {
  it('reads JSON Lines, skipping blank lines and reporting bad ones by line', () => {
    const text = '{"name": "a"}\n\n{"name": "b"\n{"nom": "c"}\n{"name": "d"}\n';
    expect(parseRecords(text, needsName)).toEqual({
      records: ['a', 'd'],
      errors: [
        { line: 3, message: expect.any(String) },
        { line: 4, message: 'no name' },
      ],
    });
  });

  it('reads a JSON array element by element, with the line each element starts on', () => {
    const text = '[\n  {"name": "a", "s": "],[{"},\n  {"name": 1},\n  {"name": "c",\n   "x": [1, 2]}\n]\n';
    expect(splitRecords(text).records.map((r) => r.line)).toEqual([2, 3, 4]);
    expect(parseRecords(text, needsName)).toEqual({ records: ['a', 'c'], errors: [{ line: 3, message: 'no name' }] });
  });

  it('keeps what it can of a broken array', () => {
    const text = '[{"name": "a"}, {"name": "b"} x, {"name": "c"';
    const result = parseRecords(text, needsName);
    expect(result.records).toEqual(['a']);
    expect(result.errors.map((e) => e.message)).toContain('unterminated JSON array');
    expect(parseRecords('[{"name": "a"}] trailing', needsName).errors).toEqual([{ line: 1, message: 'unexpected text after the JSON array' }]);
  });
});
