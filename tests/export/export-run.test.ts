// export-run: the Python reward module agrees with `cli score` on the reward corpus (every variant, every
// sub-signal), its verl and TRL entry points score like it, and the exported data files read back as the
// run's rows. The run is tiny (3 instances, the embedded model, no GPU except the checkpoint merge).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exportRun } from '../../src/cli/commands/export-run.ts';
import { score } from '../../src/cli/commands/score.ts';
import type { CliCommand } from '../../src/cli/command.ts';
import { REWARD_MODULE, rewardModule } from '../../src/export/bundle.ts';
import { DATA_SOURCE } from '../../src/export/dataset.ts';
import { REWARDS } from '../../src/toolcall/reward.ts';
import { parseDataset } from '../../src/data/datasets.ts';
import { buildMessages } from '../../src/toolcall/template.ts';
import { pyDumps } from '../../src/toolcall/json.ts';
import { gpu } from '../helpers/gpu.ts';
import { embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { Policy } from '../../src/train/policy.ts';
import { exportMerged, saveCheckpoint } from '../../src/train/checkpoint.ts';
import { Rng } from '../../src/util/random.ts';

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'reward-corpus.jsonl');
const PY_SOURCE = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'export', 'python', REWARD_MODULE), 'utf8');
const python = spawnSync('python3', ['--version']).status === 0;
if (!python) console.warn('export-run tests: python3 not found, the Python reward module is not checked');

async function run(command: CliCommand, argv: string[]): Promise<string> {
  const stdout: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  await command.run(argv);
  vi.restoreAllMocks();
  return stdout.join('');
}

const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l));

afterEach(() => vi.restoreAllMocks());

describe.skipIf(!python)('the exported Python reward', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tooln1-reward-py-'));

  for (const reward of Object.keys(REWARDS)) {
    it(`${reward}: the scores and signals of cli score on the corpus`, async () => {
      const module = join(dir, `${reward}.py`);
      writeFileSync(module, rewardModule(PY_SOURCE, reward)); // the run's variant as the module's default
      const py = spawnSync('python3', [module, CORPUS], { encoding: 'utf8' });
      expect(py.stderr).toBe('');
      const ts = lines(await run(score, ['--in', CORPUS, '--reward', reward]));
      expect(ts.length).toBeGreaterThan(70);
      expect(lines(py.stdout)).toEqual(ts);
    });
  }

  it('compute_score (verl) and tool_call_reward (TRL) score like the module', () => {
    const module = join(dir, REWARD_MODULE);
    writeFileSync(module, rewardModule(PY_SOURCE, 'partial_names'));
    const check = `
import json, sys
sys.path.insert(0, ${JSON.stringify(dir)})
from toolcall_reward import compute_score, tool_call_reward, score
cases = [json.loads(l) for l in open(${JSON.stringify(CORPUS)})]
truths = [json.dumps(c["ground_truth"]) for c in cases]
verl = [compute_score("${DATA_SOURCE}", c["completion"], t, {"split": "train", "index": 0}) for c, t in zip(cases, truths)]
trl_text = tool_call_reward([c["completion"] for c in cases], truths)
trl_chat = tool_call_reward([[{"role": "assistant", "content": c["completion"]}] for c in cases], truths, prompts=None)
want = [float(score(c["completion"], c["ground_truth"])) for c in cases]
print(json.dumps([verl == want, trl_text == want, trl_chat == want, sorted(set(want))]))`;
    const py = spawnSync('python3', ['-c', check], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    expect(JSON.parse(py.stdout)).toEqual([true, true, true, [0, 0.2, 0.4, 0.8, 1]]);
  });
});

describe('export-run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tooln1-export-'));
  const records = [
    { id: 'a', query: 'p', tools: [{ name: 'p', parameters: {} }], answers: [{ name: 'p', arguments: { x: 1.0 } }] },
    { id: 'b', query: 'hi', tools: [{ name: 'p' }], answers: [] },
    { id: 'c', query: 'q', tools: [{ name: 'p' }, { name: 'q' }], answers: [{ name: 'q', arguments: { s: 'é' } }, { name: 'p', arguments: {} }] },
  ];
  const data = join(dir, 'data.jsonl');
  // Written by Python's json.dumps so that 1.0 stays a float in the file.
  writeFileSync(data, records.map((r) => JSON.stringify(r).replace('"x":1', '"x":1.0')).join('\n'));
  const template = { preamble: 'P', toolsIntro: 'T', instructions: 'I', exampleReply: 'E' };
  const config = { model: 'embedded', mode: 'lora', lora: { rank: 2, alpha: 4, targets: ['q'] }, data: { train: 'data.jsonl', heldoutFraction: 0.34 }, reward: 'partial_format', template, grpo: { steps: 3, promptsPerStep: 2, groupSize: 4, maxNewTokens: 8, seed: 1 } };
  const configPath = join(dir, 'run', 'train-config.json');
  mkdirSync(join(dir, 'run'));
  writeFileSync(configPath, JSON.stringify({ ...config, data: { ...config.data, train: '../data.jsonl' } }));
  const instances = parseDataset(readFileSync(data, 'utf8'), 'instance').records;
  const byId = new Map(instances.map((i) => [i.id, i]));

  it('verl: parquet rows in Tool-N1\'s layout, the reward variant, a launch script, the checkpoint merged in the base dtype', async () => {
    // A LoRA checkpoint in the run folder, as `train` leaves it: export-run merges it into the base.
    const rt = await gpu();
    const base = await loadModel(embeddedDirSource());
    const policy = Policy.create(rt, base, { mode: 'lora', lora: { rank: 2, alpha: 4, targets: ['q'] }, maxPositions: 16, seed: 1 });
    for (const layer of policy.model.adapters!) for (const a of layer.qkv) rt.write(a.B, new Rng(3).uniformArray(a.B.size, -0.1, 0.1));
    writeFileSync(join(dir, 'run', 'checkpoint.safetensors'), await saveCheckpoint(policy, { step: 3, optimizerSteps: 3, rngState: 1 }, config));
    const merged = await exportMerged(policy, base);
    policy.release();

    const out = join(dir, 'verl');
    await run(exportRun, ['--config', configPath, '--out', out, '--for', 'verl']);
    const read = async (f: string) => parquetReadObjects({ file: new Uint8Array(readFileSync(join(out, 'data', f))).buffer });
    const train = await read('train.parquet');
    const test = await read('test.parquet');
    expect(train.length + test.length).toBe(3);
    for (const [split, rows] of [['train', train], ['test', test]] as const) {
      rows.forEach((row, index) => {
        const inst = byId.get(row.extra_info.id)!;
        expect(row).toEqual({
          data_source: DATA_SOURCE,
          prompt: buildMessages(inst, template).map((m) => ({ role: m.role, content: m.content })),
          ability: DATA_SOURCE,
          reward_model: { style: 'rule', ground_truth: pyDumps(inst.answers.map((c) => ({ name: c.name, arguments: c.arguments }))) },
          extra_info: { split, index: BigInt(index), id: inst.id },
        });
      });
    }
    expect(train.find((r) => r.extra_info.id === 'a')?.reward_model.ground_truth ?? test[0].reward_model.ground_truth).toContain('');
    expect(JSON.stringify([...train, ...test].map((r) => r.reward_model.ground_truth))).toContain('{\\"x\\": 1.0}');
    expect(readFileSync(join(out, REWARD_MODULE), 'utf8')).toMatch(/^REWARD = "partial_format"$/m);
    const script = readFileSync(join(out, 'run_verl.sh'), 'utf8');
    for (const s of ["'actor_rollout_ref.rollout.n=4'", "'data.train_batch_size=2'", "'actor_rollout_ref.model.lora_rank=2'", "'actor_rollout_ref.actor.kl_loss_type=low_var_kl'"]) expect(script).toContain(s);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('| `grpo.groupSize` | 4 | `actor_rollout_ref.rollout.n=4` | `num_generations=4` |');
    expect(readFileSync(join(out, 'model', 'model.safetensors')).equals(merged)).toBe(true); // byte for byte (toEqual is slow on MBs)
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(out, 'model', f)), f).toBe(true);
  });

  it('trl: JSON Lines with prompt messages and ground_truth; the base model copied when there is no checkpoint', async () => {
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, JSON.stringify({ ...config, mode: 'full', lora: undefined }));
    const out = join(dir, 'trl');
    await run(exportRun, ['--config', plain, '--out', out, '--for', 'trl']);
    const rows = ['train', 'test'].flatMap((s) => lines(readFileSync(join(out, 'data', `${s}.jsonl`), 'utf8')));
    expect(rows.map((r) => r.id).sort()).toEqual(['a', 'b', 'c']);
    for (const row of rows) {
      const inst = byId.get(row.id)!;
      expect(row).toEqual({ prompt: buildMessages(inst, template), ground_truth: pyDumps(inst.answers.map((c) => ({ name: c.name, arguments: c.arguments }))), id: inst.id });
    }
    expect(readFileSync(join(out, 'train_trl.py'), 'utf8')).toContain('    num_generations=4,');
    expect(readFileSync(join(out, 'model', 'model.safetensors')).equals(readFileSync(join(import.meta.dirname, '..', '..', 'public', 'models', 'tiny', 'model.safetensors')))).toBe(true);
    await expect(exportRun.run(['--config', plain, '--out', out, '--for', 'trl'])).rejects.toThrow('is not empty');
    await expect(exportRun.run(['--config', plain, '--out', join(dir, 'x'), '--for', 'ray'])).rejects.toThrow('--for must be one of verl, trl');
  });
});
