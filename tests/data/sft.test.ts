import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { END_OF_TURN, SFT_REASONING, sftCompletionError, sftTarget, templatedThought } from '../../src/data/sft.ts';
import { SYNTHETIC_LEVELS, generateSynthetic, type SyntheticLevel } from '../../src/data/synthetic.ts';
import { loadTokenizer } from '../../src/model/tokenizer.ts';
import { pyInt } from '../../src/toolcall/json.ts';
import { REWARDS } from '../../src/toolcall/reward.ts';

const TINY = join(import.meta.dirname, '..', '..', 'public', 'models', 'tiny');
const readJson = (file: string) => JSON.parse(readFileSync(join(TINY, file), 'utf8'));
const LEVELS = Object.keys(SYNTHETIC_LEVELS) as SyntheticLevel[];
const instances = LEVELS.flatMap((level) =>
  (['train', 'heldout'] as const).flatMap((split) => generateSynthetic({ level, split, seed: 3, count: 60 })),
);

describe('SFT targets', () => {
  it('earn reward 1 under the binary reward, with reasoning templated or none', () => {
    for (const reasoning of SFT_REASONING) {
      for (const instance of instances) {
        const target = sftTarget(instance, reasoning);
        expect(REWARDS.binary(target, instance.answers).reward, target).toBe(1);
        expect(REWARDS.binary_no_think(target, instance.answers).reward).toBe(1);
        expect(REWARDS.partial_names(target, instance.answers).reward).toBe(1);
        expect(target.endsWith(END_OF_TURN)).toBe(true);
      }
    }
  });

  it('have the think part the mode asks for', () => {
    const [single] = instances.filter((i) => i.answers.length === 1);
    expect(sftTarget(single, 'none')).toMatch(/^<think><\/think>\n<tool_call>\[\{"name": /);
    expect(sftTarget(single, 'templated')).toMatch(new RegExp(`^<think> The request needs ${single.answers[0].name} with .+\\. </think>\\n<tool_call>`));
    expect(sftTarget({ answers: [] }, 'templated')).toBe(`<think> No listed function fits this request. </think>\n<tool_call>[]</tool_call>${END_OF_TURN}`);
    expect(templatedThought([{ name: 'a', arguments: { x: pyInt(1) } }, { name: 'b', arguments: {} }])).toBe('The request needs a with x and b with no arguments.');
  });

  it('tokenize with the embedded tokenizer to text that round-trips and ends with the EOS id', () => {
    const tok = loadTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), readJson('generation_config.json'));
    for (const instance of instances.slice(0, 40)) {
      const target = sftTarget(instance, 'templated');
      const ids = tok.encode(target);
      expect(ids[ids.length - 1]).toBe(tok.eosIds[0]);
      expect(tok.decode(ids)).toBe(target);
    }
  });

  it('validates given completions against the reasoning mode', () => {
    const [instance] = instances;
    for (const reasoning of SFT_REASONING) expect(sftCompletionError(sftTarget(instance, reasoning), reasoning)).toBeUndefined();
    expect(sftCompletionError(sftTarget(instance, 'templated'), 'none')).toMatch(/empty think part/);
    expect(sftCompletionError(sftTarget(instance, 'none'), 'templated')).toMatch(/non-empty think part/);
    expect(sftCompletionError('<tool_call>[]</tool_call>', 'none')).toMatch(/must be "<think>/);
    expect(sftCompletionError('<think></think>\n<tool_call>{"oops"</tool_call>', 'none')).toMatch(/JSON list/);
  });
});
