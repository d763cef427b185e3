import { describe, expect, it } from 'vitest';
import { SYNTHETIC_LEVELS, generateSynthetic, syntheticCatalogue, type SyntheticLevel } from '../../src/data/synthetic.ts';
import { isJsonObject, pyDumps, pyType, type Json, type JsonObject, type PyType } from '../../src/toolcall/json.ts';
import { REWARDS } from '../../src/toolcall/reward.ts';
import { toolCallBlock } from '../../src/toolcall/template.ts';
import type { Instance } from '../../src/data/instance.ts';

const LEVELS = Object.keys(SYNTHETIC_LEVELS) as SyntheticLevel[];
const PY_TYPE: Record<string, PyType> = { string: 'str', integer: 'int', float: 'float', boolean: 'bool', array: 'list', dict: 'dict' };

/** The value fits its schema fragment: BFCL type words, enums, array items, nested required fields. */
function fits(value: Json, spec: JsonObject): boolean {
  if (pyType(value) !== PY_TYPE[spec.type as string]) return false;
  if (Array.isArray(spec.enum) && !spec.enum.includes(value as string)) return false;
  if (Array.isArray(value)) return value.every((v) => fits(v, spec.items as JsonObject));
  if (spec.type === 'dict') return argumentsFit(value as JsonObject, spec);
  return true;
}

function argumentsFit(args: JsonObject, schema: JsonObject): boolean {
  const properties = schema.properties as JsonObject;
  const required = schema.required as string[];
  return (
    required.every((r) => Object.hasOwn(args, r)) &&
    Object.entries(args).every(([k, v]) => isJsonObject(properties[k]) && fits(v, properties[k] as JsonObject))
  );
}

function checkInstance(x: Instance): void {
  expect(x.turns).toHaveLength(1);
  for (const call of x.answers) {
    const tool = x.tools.find((t) => t.name === call.name);
    expect(tool, `${call.name} is offered`).toBeDefined();
    expect(argumentsFit(call.arguments as JsonObject, tool!.parameters as JsonObject), pyDumps(call.arguments)).toBe(true);
    // Numbers and free strings are spelled in the request exactly as the answer has them.
    for (const [k, v] of Object.entries(call.arguments as JsonObject)) {
      const spec = ((tool!.parameters as JsonObject).properties as JsonObject)[k] as JsonObject;
      if ((pyType(v) === 'str' && !spec.enum) || pyType(v) === 'int' || pyType(v) === 'float') {
        expect(x.turns[0].content).toContain(typeof v === 'string' ? v : pyDumps(v));
      }
    }
  }
  const perfect = `<think>The request maps onto these calls.</think>\n${toolCallBlock(x.answers)}`;
  expect(REWARDS.binary(perfect, x.answers).reward).toBe(1);
}

describe('synthetic task', () => {
  it('is deterministic in (seed, level, split)', () => {
    const a = generateSynthetic({ level: 'medium', split: 'train', seed: 5, count: 50 });
    const b = generateSynthetic({ level: 'medium', split: 'train', seed: 5, count: 50 });
    const c = generateSynthetic({ level: 'medium', split: 'train', seed: 6, count: 50 });
    expect(a.map((x) => toolCallBlock(x.answers))).toEqual(b.map((x) => toolCallBlock(x.answers)));
    expect(a.map((x) => x.turns[0].content)).toEqual(b.map((x) => x.turns[0].content));
    expect(a.map((x) => x.turns[0].content)).not.toEqual(c.map((x) => x.turns[0].content));
  });

  it('keeps held-out tools and templates out of training', () => {
    for (const level of LEVELS) {
      const train = syntheticCatalogue('train', level);
      const heldout = syntheticCatalogue('heldout', level);
      expect(heldout.length, level).toBeGreaterThanOrEqual(4);
      const trainNames = new Set(train.map((t) => t.spec.name));
      expect(heldout.filter((t) => trainNames.has(t.spec.name))).toEqual([]);
      const trainTemplates = new Set(train.flatMap((t) => t.requests));
      expect(heldout.flatMap((t) => t.requests).filter((r) => trainTemplates.has(r))).toEqual([]);
      const heldoutTexts = new Set(generateSynthetic({ level, split: 'heldout', seed: 1, count: 300 }).map((x) => x.turns[0].content));
      const trainTexts = generateSynthetic({ level, split: 'train', seed: 1, count: 1000 }).map((x) => x.turns[0].content);
      expect(trainTexts.filter((t) => heldoutTexts.has(t))).toEqual([]);
    }
  });

  for (const level of LEVELS) {
    it(`${level}: answers call offered tools with valid arguments, and perfect completions earn 1`, () => {
      for (const split of ['train', 'heldout'] as const) {
        for (const x of generateSynthetic({ level, split, seed: 2, count: 300 })) checkInstance(x);
      }
    });
  }

  it('scales difficulty from tiny to hard', () => {
    const stats = (level: SyntheticLevel) => {
      const xs = generateSynthetic({ level, split: 'train', seed: 3, count: 1000 });
      const types = new Set(xs.flatMap((x) => x.answers.flatMap((c) => Object.values(c.arguments as JsonObject).map(pyType))));
      return {
        maxCalls: Math.max(...xs.map((x) => x.answers.length)),
        maxTools: Math.max(...xs.map((x) => x.tools.length)),
        noCall: xs.filter((x) => x.answers.length === 0).length / xs.length,
        types,
      };
    };
    const tiny = stats('tiny');
    expect(tiny.maxCalls).toBe(1);
    expect(tiny.maxTools).toBeLessThanOrEqual(2);
    expect([...tiny.types].sort()).toEqual(['int', 'str']);
    expect(tiny.noCall).toBeGreaterThan(0.1);
    const medium = stats('medium');
    expect(medium.maxCalls).toBe(3);
    expect([...medium.types].sort()).toEqual(['bool', 'dict', 'float', 'int', 'list', 'str']);
    expect(stats('hard').maxCalls).toBe(4);
  });
});
