import { describe, expect, it } from 'vitest';
import { canonicalJson, parseJson, pyDumps, pyEquals, pyFloat, pyInt, pythonFloatRepr, pyType } from '../../src/toolcall/json.ts';

describe("Python's repr(float)", () => {
  // Expected strings are what CPython prints.
  const cases: [number, string][] = [
    [1, '1.0'],
    [-0, '-0.0'],
    [0.5, '0.5'],
    [1e-7, '1e-07'],
    [1.5e-7, '1.5e-07'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [123456789012345.6, '123456789012345.6'],
    [1e15, '1000000000000000.0'],
    [1e16, '1e+16'],
    [1.2345678901234568e17, '1.2345678901234568e+17'],
    [1e100, '1e+100'],
    [0.1 + 0.2, '0.30000000000000004'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
  ];
  for (const [x, repr] of cases) it(`${repr}`, () => expect(pythonFloatRepr(x)).toBe(repr));
});

describe('pyDumps / canonicalJson (json.dumps defaults)', () => {
  it('keeps 1, 1.0 and "1" apart and prints numbers as Python does', () => {
    expect(canonicalJson(parseJson('[1, 1.0, "1", 1e-7, 1E5, -0, 12345678901234567890123, 2.50]'))).toBe(
      '[1, 1.0, "1", 1e-07, 100000.0, 0, 12345678901234567890123, 2.5]',
    );
    expect(canonicalJson(parseJson('1e999'))).toBe('Infinity');
  });

  it('sorts keys recursively, by code point', () => {
    const value = parseJson('{"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": null, "\uff01": 1, "\ud83d\ude00": 2}');
    expect(canonicalJson(value)).toBe('{"a": null, "b": {"a": [{"x": 3, "y": 2}], "z": 1}, "\\uff01": 1, "\\ud83d\\ude00": 2}');
    expect(pyDumps(value)).toBe('{"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": null, "\\uff01": 1, "\\ud83d\\ude00": 2}');
  });

  it('escapes like ensure_ascii=True', () => {
    expect(pyDumps('a"b\\c\n\t\u0001\u007fé€/')).toBe('"a\\"b\\\\c\\n\\t\\u0001\\u007f\\u00e9\\u20ac/"');
  });

  it('builds ints and floats from JS numbers', () => {
    expect(pyDumps([pyInt(3), pyFloat(3), pyFloat(0.1), pyInt(10n ** 20n)])).toBe('[3, 3.0, 0.1, 100000000000000000000]');
    expect(() => pyInt(1.5)).toThrow();
  });
});

describe('pyType and pyEquals (Python == on json.loads values)', () => {
  it('types', () => {
    expect(['1', '1.0', '1e3', 'true', '"1"', 'null', '[]', '{}'].map((t) => pyType(parseJson(t)))).toEqual([
      'int', 'float', 'float', 'bool', 'str', 'NoneType', 'list', 'dict',
    ]);
  });
  const table: [string, string, boolean][] = [
    ['5', '5.0', true],
    ['true', '1', true],
    ['false', '0.0', true],
    ['"5"', '5', false],
    ['9007199254740993', '9007199254740992.0', false], // exact int vs float comparison
    ['[1, 2]', '[1.0, 2]', true],
    ['[1, 2]', '[2, 1]', false],
    ['{"a": 1, "b": [true]}', '{"b": [1], "a": 1.0}', true],
    ['{"a": 1}', '{"a": 1, "b": 2}', false],
    ['null', 'null', true],
    ['null', '0', false],
  ];
  for (const [a, b, equal] of table) it(`${a} == ${b} is ${equal}`, () => expect(pyEquals(parseJson(a), parseJson(b))).toBe(equal));
});
