// A GPU device lost in the middle of a training run (driver reset, the browser reclaiming it): destroyed
// here right after the checkpoint of step 1 is written. The run stops with a clear error naming the intact
// checkpoint, the checkpoint is untouched, and --resume finishes the run from it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { train } from '../../src/cli/commands/train.ts';
import { readCheckpointMeta } from '../../src/train/checkpoint.ts';
import type { TrainEvent } from '../../src/train/events.ts';
import { expectNoLeak, tempDir } from './harness.ts';

const runtimes: GpuRuntime[] = [];
vi.mock('../../src/gpu/node.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/gpu/node.ts')>();
  return {
    ...original,
    createNodeRuntime: async (...args: Parameters<typeof original.createNodeRuntime>) => {
      const rt = await original.createNodeRuntime(...args);
      runtimes.push(rt);
      return rt;
    },
  };
});

const dir = tempDir('tooln1-lost-');
const out = join(dir, 'run');
writeFileSync(join(dir, 'data.jsonl'), JSON.stringify({ query: 'p', tools: [{ name: 'p' }], answers: [{ name: 'p', arguments: {} }] }));
const config = (steps: number) => {
  const path = join(dir, `steps${steps}.json`);
  writeFileSync(path, JSON.stringify({
    model: 'embedded',
    data: { train: 'data.jsonl', heldout: 'data.jsonl' },
    template: { preamble: 'P', toolsIntro: 'T', instructions: 'I', exampleReply: 'E' },
    grpo: { steps, promptsPerStep: 1, groupSize: 2, maxNewTokens: 2, microBatch: 4, evalEvery: 0, checkpointEvery: 1, seed: 1 },
  }));
  return path;
};
const checkpoint = () => readFileSync(join(out, 'checkpoint.safetensors'));
const events = (): TrainEvent[] => readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** Runs train; `onLine` sees each stderr line as it is written. */
async function runTrain(argv: string[], onLine: (line: string) => void = () => {}): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    onLine(String(chunk));
    return true;
  });
  try {
    await train.run(argv);
  } finally {
    vi.restoreAllMocks();
  }
  return lines.join('');
}

afterEach(() => vi.restoreAllMocks());

describe('a GPU device lost during training', () => {
  it('stops the run with a clear error and leaves the last checkpoint intact', async () => {
    let destroyed = false;
    const lines: string[] = [];
    const run = runTrain(['--config', config(3), '--out', out], (line) => {
      lines.push(line);
      if (!destroyed && line.startsWith('checkpoint  step 1')) {
        destroyed = true;
        runtimes[runtimes.length - 1].device.destroy();
      }
    });
    const error = await run.then(() => null, (e: Error) => e);
    expect(destroyed).toBe(true);
    expect(error?.message).toBe(`training stopped by the device loss at step 1: continue with --out ${out} --resume`);
    expectNoLeak(error!.message);
    expectNoLeak(lines.join(''));
    expect(readCheckpointMeta(checkpoint(), 'checkpoint').state.step).toBe(1);
    // The event log (and stderr) say what was lost and what is kept.
    const last = events()[events().length - 1];
    expect(last).toMatchObject({ type: 'log', level: 'error' });
    expect((last as { message: string }).message).toMatch(/^GPU device lost \(destroyed\): .*\nstopped during step 2; the checkpoint of step 1 in .*checkpoint\.safetensors is intact$/s);
  });

  it('resumes from that checkpoint on a new device and finishes the run', async () => {
    const before = checkpoint();
    expect(readCheckpointMeta(before, 'checkpoint').state.step).toBe(1);
    const stderr = await runTrain(['--config', config(2), '--out', out, '--resume']);
    expect(stderr).toContain('resuming from');
    expect(stderr).toContain('exported the merged model');
    expect(readCheckpointMeta(checkpoint(), 'checkpoint').state.step).toBe(2);
    const resumed = events().slice(events().findLastIndex((e) => e.type === 'log' && e.level === 'error') + 1);
    expect(resumed.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([2]);
    expect(resumed[resumed.length - 1]).toEqual({ type: 'done', step: 2, stopped: false });
  });
});
