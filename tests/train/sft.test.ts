// SFT through the CLI's `train --config` with "method": "sft": targets from the records' completions, loss
// and token accuracy per step, the held-out greedy reward, and a resumed run bit-identical to a straight one.
// The embedded tiny model on ~60-token prompts with ~25-token targets, a one-letter-per-part template.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { train } from '../../src/cli/commands/train.ts';
import { parseSafetensors } from '../../src/model/safetensors.ts';
import type { TrainEvent } from '../../src/train/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'tooln1-sft-'));
const call = (name: string) => `<think></think>\n<tool_call>\n[{"name": "${name}", "arguments": {}}]\n</tool_call>`;
writeFileSync(join(dir, 'data.jsonl'), [
  { query: 'p', tools: [{ name: 'p' }], answers: [{ name: 'p', arguments: {} }], completion: call('p') },
  { query: 'q', tools: [{ name: 'q' }], answers: [{ name: 'q', arguments: {} }], completion: call('q') },
].map((r) => JSON.stringify(r)).join('\n'));

const config = (steps: number) => JSON.stringify({
  method: 'sft',
  model: 'embedded',
  data: { train: 'data.jsonl', heldout: 'data.jsonl' },
  template: { preamble: 'P', toolsIntro: 'T', instructions: 'I', exampleReply: 'E' },
  sft: {
    steps, batchSize: 2, microBatch: 2, reasoning: 'none', schedule: { kind: 'constant', lr: 0.01 },
    evalEvery: 2, evalSize: 1, maxNewTokens: 2, checkpointEvery: 1, seed: 1,
  },
});

async function trainCli(argv: string[]): Promise<string> {
  const stderr: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  try {
    await train.run(argv);
  } finally {
    vi.restoreAllMocks();
  }
  return stderr.join('');
}

const events = (out: string): TrainEvent[] => readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const tensors = (out: string) => {
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(out, 'checkpoint.safetensors'))), 'checkpoint');
  return new Map([...tensors].map(([name, t]) => [name, Buffer.from(t.bytes).toString('base64')]));
};

describe('SFT', () => {
  it('trains on the completions: loss falls, token accuracy and the held-out reward are reported; resume is bit-exact', async () => {
    writeFileSync(join(dir, 'two.json'), config(2));
    const straight = join(dir, 'straight');
    const stderr = await trainCli(['--config', join(dir, 'two.json'), '--out', straight]);
    expect(stderr).toMatch(/^step 1\/2 {2}loss \d+\.\d{4} {2}token accuracy 0\.\d{3} /m);
    const steps = events(straight).filter((e) => e.type === 'sft-step');
    expect(steps.map((e) => [e.step, e.tokens, e.skipped])).toEqual([[1, steps[0].tokens, 0], [2, steps[0].tokens, 0]]);
    expect(steps[0].tokens).toBeGreaterThan(20);
    expect(steps[1].loss).toBeLessThan(steps[0].loss);
    for (const s of steps) expect(s.tokenAccuracy).toBeGreaterThanOrEqual(0), expect(s.tokenAccuracy).toBeLessThanOrEqual(1);
    expect(events(straight).filter((e) => e.type === 'eval')).toEqual([{ type: 'eval', step: 2, meanReward: expect.any(Number), examples: 1 }]);
    expect(stderr).toContain('exported the merged model');

    // One step, then a resumed second: the same weights and AdamW moments, bit for bit.
    const split = join(dir, 'split');
    writeFileSync(join(dir, 'one.json'), config(1));
    await trainCli(['--config', join(dir, 'one.json'), '--out', split]);
    await trainCli(['--config', join(dir, 'two.json'), '--out', split, '--resume']);
    expect(events(split).filter((e) => e.type === 'sft-step').map((e) => e.step)).toEqual([1, 2]);
    expect(tensors(split)).toEqual(tensors(straight));
  }, 900_000);
});
