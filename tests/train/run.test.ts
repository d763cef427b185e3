// One run assembly (src/train/run.ts) behind both the CLI's train command and the studio's Worker: the same
// config gives the same events in both paths' code. Also: a studio Start that fails changes nothing.
// One GRPO step (with β ≠ 0: a KL reference) of the embedded tiny model on 2-token completions of ~60-token prompts, per path.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { train } from '../../src/cli/commands/train.ts';
import { Generator } from '../../src/model/generate.ts';
import { instantiateModel } from '../../src/model/instantiate.ts';
import { embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { tokenizerForModel } from '../../src/model/tokenizer.ts';
import { resolveTrainConfig } from '../../src/train/config.ts';
import type { TrainEvent } from '../../src/train/events.ts';
import { CHECKPOINT_FILE } from '../../src/train/run.ts';
import type { Loaded } from '../../src/worker/playground.ts';
import { Training } from '../../src/worker/training.ts';
import { gpu } from '../helpers/gpu.ts';
import { memoryShelf } from '../helpers/run-shelf.ts';
import { parseEventsJsonl } from '../../src/ui/run-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'tooln1-run-'));
const records = [
  { query: 'p', tools: [{ name: 'p' }], answers: [{ name: 'p', arguments: {} }] },
  { query: 'hi', tools: [{ name: 'p' }], answers: [] },
  { query: 'q', tools: [{ name: 'q' }], answers: [{ name: 'q', arguments: {} }] },
  { query: 'no', tools: [{ name: 'q' }], answers: [] },
];
const dataset = records.map((r) => JSON.stringify(r)).join('\n');
writeFileSync(join(dir, 'data.jsonl'), dataset);
const config = {
  model: 'embedded',
  mode: 'full',
  data: { train: 'data.jsonl', heldoutFraction: 0.5 }, // the seeded split
  template: { preamble: 'P', toolsIntro: 'T', instructions: 'I', exampleReply: 'E' },
  grpo: {
    steps: 1, promptsPerStep: 1, groupSize: 2, maxNewTokens: 2, microBatch: 4, schedule: { kind: 'constant', lr: 0.001 },
    objective: { beta: 0.01 }, evalEvery: 1, evalSize: 1, checkpointEvery: 1, seed: 5,
  },
  // Benchmark accuracy during training, the same setting in both paths: one synthetic held-out entry.
  benchmark: { bench: 'synthetic', data: 'tiny:0', categories: ['single'], limit: 1, every: 1, maxNewTokens: 2 },
};

/**
 * Events without what depends on the machine or the storage: timings, where a checkpoint went, and the live
 * progress reports (the CLI keeps them out of events.jsonl).
 */
function comparable(events: TrainEvent[]): unknown[] {
  return events.filter((e) => e.type !== 'progress').map((e) => {
    if (e.type === 'step') return { ...e, tokensPerSec: 0, rolloutMs: 0, scoringMs: 0, updateMs: 0 };
    if (e.type === 'checkpoint') return { ...e, where: '', bytes: 0 }; // its metadata holds the config's paths
    if (e.type === 'bench') return { ...e, ms: 0 };
    return e;
  });
}

async function studioBase(): Promise<Loaded> {
  const rt = await gpu();
  const source = embeddedDirSource();
  const files = await loadModel(source);
  const model = instantiateModel(rt, files);
  return { spec: { kind: 'embedded' }, source, files, model, generator: new Generator(model), tokenizer: await tokenizerForModel(files) };
}

const shelf = memoryShelf();
const training = new Training(shelf);
let base: Loaded;
afterAll(() => training.release());

describe('one run assembly for the studio and the CLI', () => {
  it('gives the same events for the same config', async () => {
    writeFileSync(join(dir, 'run.json'), JSON.stringify(config));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await train.run(['--config', join(dir, 'run.json'), '--out', join(dir, 'out')]);
    vi.restoreAllMocks();
    const cli = readFileSync(join(dir, 'out', 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrainEvent);

    base = await studioBase();
    const studio: TrainEvent[] = [];
    const file = new Blob([dataset]);
    const raw = resolveTrainConfig({ ...config, data: { train: 'data.jsonl', heldoutFraction: 0.5 } });
    const report = await training.start(await gpu(), base, raw, file, { onStart: () => {}, onEvents: (events) => studio.push(...events) });
    expect(report).toMatchObject({ step: 1, stopped: false, checkpoint: { step: 1, steps: 1, mode: 'full', model: 'embedded tiny model' } });

    expect(cli.filter((e) => e.type === 'step')).toHaveLength(1);
    expect(cli.filter((e) => e.type === 'eval')).toHaveLength(1);
    expect(cli.filter((e) => e.type === 'bench')).toMatchObject([{ step: 1, bench: 'synthetic', total: 1, categories: [{ category: 'single', total: 1 }] }]);
    expect(comparable(studio)).toEqual(comparable(cli));
    expect(cli.some((e) => e.type === 'progress')).toBe(false);

    // The live display's reports, in order: pipelines, rollout tokens (2 new at most), scoring, the KL
    // reference (β ≠ 0), the update's micro-batch (both sequences in one), then the held-out evaluation.
    const progress = studio.flatMap((e) => (e.type === 'progress' ? [`${e.step} ${e.phase} ${e.done}/${e.total}`] : []));
    const phases = [...new Set(progress.map((p) => p.split(' ')[1]))];
    expect(phases).toEqual(['compile', 'rollout', 'scoring', 'reference', 'update', 'eval', 'bench']);
    expect(progress.filter((p) => !p.includes('compile'))).toEqual(
      expect.arrayContaining(['1 rollout 1/2', '1 scoring 0/1', '1 reference 0/1', '1 update 0/1', '1 update 1/1', '1 eval 0/1', '1 bench 1/1']),
    );
    const ms = studio.flatMap((e) => (e.type === 'progress' && e.phase !== 'compile' ? [e.ms] : []));
    expect(ms).toEqual([...ms].sort((a, b) => a - b)); // time since the step began only grows

    // The studio keeps the run with its events.jsonl, the CLI's events line for line.
    const kept = await training.runs();
    expect(kept).toMatchObject([{ method: 'grpo', model: 'embedded tiny model', steps: 1, current: true, active: false, checkpointStep: 1 }]);
    expect(kept[0].name).toMatch(/^GRPO binary, β 0.01 · /);
    const log = parseEventsJsonl(await training.runEvents(kept[0].id));
    expect(log.errors).toEqual([]);
    expect(comparable(log.events)).toEqual(comparable(cli));
  }, 600_000);

  it('a Start with an unreadable dataset file changes nothing: the saved run and the trained policy stay', async () => {
    const id = await shelf.current();
    const saved = shelf.runs.get(id!)!.get(CHECKPOINT_FILE);
    const before = await training.trainedModel(await gpu(), base);
    const unreadable = new (class extends Blob {
      override text(): Promise<string> {
        return Promise.reject(new DOMException('the file could not be read', 'NotReadableError'));
      }
    })();
    const raw = resolveTrainConfig({ ...config, data: { train: 'gone.jsonl' } });
    await expect(training.start(await gpu(), base, raw, unreadable, { onStart: () => {}, onEvents: () => {} })).rejects.toThrow(
      'gone.jsonl: cannot be read (the file could not be read)',
    );
    expect(await shelf.current()).toBe(id);
    expect(shelf.runs.get(id!)!.get(CHECKPOINT_FILE)).toBe(saved);
    expect([...shelf.runs.keys()]).toEqual([id]);
    expect(await training.trainedModel(await gpu(), base)).toBe(before);
    // A config the CLI would refuse is refused the same way.
    const bad = { ...resolveTrainConfig(config), grpo: { ...resolveTrainConfig(config).grpo, temperature: 0 } };
    await expect(training.start(await gpu(), base, bad, new Blob([dataset]), { onStart: () => {}, onEvents: () => {} })).rejects.toThrow(
      'grpo.temperature must be a finite number > 0, got 0',
    );
    expect(await shelf.current()).toBe(id);
  });

  it('hands the studio run over as one tar: the CLI export-run folder, the policy merged in the base dtype', async () => {
    const [tar] = await training.handover(await gpu(), base, 'trl');
    expect(tar.name).toBe('tool-n1-trl-step1.tar');
    const out = mkdtempSync(join(tmpdir(), 'tooln1-handover-'));
    writeFileSync(join(out, tar.name), new Uint8Array(await tar.blob.arrayBuffer()));
    expect(spawnSync('tar', ['-xf', tar.name], { cwd: out, encoding: 'utf8' }).stderr).toBe('');
    const folder = join(out, 'tool-n1-trl-step1');
    const rows = ['train', 'test'].flatMap((s) => readFileSync(join(folder, 'data', `${s}.jsonl`), 'utf8').trim().split('\n'));
    expect(rows).toHaveLength(records.length); // the seeded 50/50 split, both halves
    expect(readFileSync(join(folder, 'train_trl.py'), 'utf8')).toContain('    num_generations=2,');
    const merged = (await training.export(await gpu(), base)).find((f) => f.name === 'model.safetensors')!;
    expect(readFileSync(join(folder, 'model', 'model.safetensors')).equals(new Uint8Array(await merged.blob.arrayBuffer()))).toBe(true);
  });

  it('keeps runs side by side: rename, a CLI events.jsonl opened as a run, delete, resume by id', async () => {
    const [run] = await training.runs();
    await training.renameRun(run.id, '  baseline ');
    const cli = readFileSync(join(dir, 'out', 'events.jsonl'), 'utf8');
    const imported = await training.importRun('cli run', cli, { method: 'grpo', model: 'a CLI run', data: 'events.jsonl', steps: 1 });
    expect((await training.runs()).map((r) => [r.name, r.imported ?? false, r.current, r.checkpointStep])).toEqual([
      ['baseline', false, true, 1],
      ['cli run', true, false, null],
    ]);
    expect(await training.runEvents(imported)).toBe(cli);
    await expect(training.renameRun(imported, ' ')).rejects.toThrow('a run needs a name');
    await training.deleteRun(imported);
    expect((await training.runs()).map((r) => r.name)).toEqual(['baseline']);
    await expect(training.runEvents(imported)).rejects.toThrow(`no run ${imported} in the browser's storage`);

    // Resumed by its id, the run's log goes on where it was.
    const report = await training.resume(await gpu(), base, 2, { onStart: () => {}, onEvents: () => {} }, run.id);
    expect(report).toMatchObject({ step: 2, stopped: false, checkpoint: { step: 2, steps: 2 } });
    expect(await training.runs()).toMatchObject([{ name: 'baseline', steps: 2, checkpointStep: 2, current: true }]);
    const log = parseEventsJsonl(await training.runEvents(run.id)).events;
    expect(log.flatMap((e) => (e.type === 'step' || e.type === 'done' ? [`${e.type} ${e.step}`] : []))).toEqual(['step 1', 'done 1', 'step 2', 'done 2']);
  }, 300_000);
});
