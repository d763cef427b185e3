// Fuzz: every CLI command's options, run in-process through main() (exit code, stdout, stderr). Bad flags
// are usage errors (exit 2) naming the flag; bad files and values the model cannot take are errors (exit 1)
// raised before any GPU work; nothing prints a JavaScript error.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/model/safetensors.ts';
import { FIXTURES, TINY, cli, expectFailure, modelCopy, tempDir, writeText } from './harness.ts';

const MODEL = join(FIXTURES, 'gqa-untied-f32'); // vocab 96, 128 positions
const dir = tempDir();
const out = join(dir, 'out.json');

describe('the command line itself', () => {
  it.each([
    [[], 2, 'usage: npm run -s cli -- <command>'],
    [['nope'], 2, 'unknown command "nope"'],
    [['--version'], 2, 'unknown command "--version"'],
    [['LOGITS'], 2, 'unknown command "LOGITS"'],
  ] as [string[], 2, string][])('%j', async (argv, code, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(code);
    expect(r.stdout + r.stderr).toContain(message);
  });
  it.each([['--help'], ['-h'], ['help']])('%s prints every command, exit 0', async (flag) => {
    const r = await cli([flag]);
    expect(r.code).toBe(0);
    for (const name of ['info', 'logits', 'generate', 'grads', 'score', 'bfcl-check', 'eval', 'train']) expect(r.stdout).toContain(`  ${name} `);
  });
});

describe('logits: ids checked against the model before any GPU work', () => {
  it.each([
    [['--model', MODEL, '--out', out], 2, 'missing required option --ids'],
    [['--ids', '1', '--out', out], 2, 'missing required option --model'],
    [['--model', MODEL, '--ids', '1'], 2, 'missing required option --out'],
    [['--model', MODEL, '--ids', '', '--out', out], 2, 'missing required option --ids'],
    [['--model', MODEL, '--ids', 'a,b', '--out', out], 2, '--ids must be a comma-separated list of non-negative integers'],
    [['--model', MODEL, '--ids', '1,-2', '--out', out], 2, '--ids must be a comma-separated list of non-negative integers'],
    [['--model', MODEL, '--ids', '1.5', '--out', out], 2, '--ids must be a comma-separated list'],
    [['--model', MODEL, '--ids', '1e400', '--out', out], 2, '--ids must be a comma-separated list'],
    [['--model', MODEL, '--ids', ',,,', '--out', out], 2, '--ids must be a comma-separated list'],
    [['--model', MODEL, '--ids', '96', '--out', out], 1, '--ids: token id 96 at position 0 is outside the vocabulary (0..95)'],
    [['--model', MODEL, '--ids', '1,2,4000000000', '--out', out], 1, '--ids: token id 4000000000 at position 2 is outside the vocabulary (0..95)'],
    [['--model', MODEL, '--ids', '9007199254740993', '--out', out], 1, 'is outside the vocabulary (0..95)'],
    [['--model', MODEL, '--ids', Array(129).fill(1).join(','), '--out', out], 1, "--ids: 129 ids exceed the model's 128 positions"],
    [['--model', MODEL, '--ids', Array(100_000).fill(1).join(','), '--out', out], 1, "--ids: 100000 ids exceed the model's 128 positions"],
    [['--model', '/no/such/model', '--ids', '1', '--out', out], 1, '/no/such/model/config.json: not found'],
    [['--model', MODEL, '--ids', '1', '--out', out, '--f32=yes'], 2, "Option '--f32' does not take an argument"],
    [['--model', MODEL, '--ids', '1', '--out', out, '--bogus'], 2, "Unknown option '--bogus'"],
  ] as [string[], 1 | 2, string][])('%j', async (argv, code, message) => {
    expectFailure(await cli(['logits', ...argv]), code, message);
    expect(existsSync(out)).toBe(false); // a failed run writes nothing
  });
  // The valid path (rows against PyTorch, exit 0) is tests/cli/model-cli.test.ts.
});

describe('generate: flags checked before the model loads, ids against the model', () => {
  const base = ['--model', MODEL, '--ids', '1,2'];
  it.each([
    [['--ids', '1'], 2, 'missing required option --model'],
    [['--model', MODEL], 2, 'give exactly one of --prompt and --ids'],
    [['--model', MODEL, '--ids', '1', '--prompt', 'hi'], 2, 'give exactly one of --prompt and --ids'],
    ...(['0', '-1', '1.5', '2.000001', 'x', 'NaN', 'Infinity', '1e20'] as const).map((v): [string[], 2, string] => [[...base, `--n=${v}`], 2, '--n must be']),
    ...(['0', '-3', '0.5', '1e400', ''] as const).map((v): [string[], 2, string] => [[...base, `--max-new-tokens=${v}`], 2, '--max-new-tokens must be']),
    ...(['-1', '2.5', 'abc'] as const).map((v): [string[], 2, string] => [[...base, `--top-k=${v}`], 2, '--top-k must be']),
    ...(['0', '-0.1', '1.0001', '2', 'NaN'] as const).map((v): [string[], 2, string] => [[...base, `--top-p=${v}`], 2, '--top-p must be']),
    ...(['-0.5', 'Infinity', 'hot'] as const).map((v): [string[], 2, string] => [[...base, `--temperature=${v}`], 2, '--temperature must be']),
    ...(['-1', '1.5', '4294967296'] as const).map((v): [string[], 2, string] => [[...base, `--seed=${v}`], 2, '--seed must be']),
    [['--model', MODEL, '--ids', '1,96'], 1, '--ids: token id 96 at position 1 is outside the vocabulary (0..95)'],
    [['--model', MODEL, '--ids', '1', '--max-new-tokens', '128'], 1, "--ids: 1 ids + 128 new tokens exceed the model's 128 positions"],
    [['--model', MODEL, '--prompt', 'hello'], 1, 'has no tokenizer.json: pass --ids instead of --prompt'],
    [['--model', MODEL, '--ids', '1', '--chat=1'], 2, "Option '--chat' does not take an argument"],
    [[...base, '--n', '-1'], 2, "Option '--n' argument is ambiguous"],
  ] as [string[], 1 | 2, string][])('%j', async (argv, code, message) => {
    expectFailure(await cli(['generate', ...argv]), code, message);
  });
  it.each([
    ['--top-p 1e-9 is a valid (near-greedy) setting but the prompt is too long', [...base.slice(0, 2), '--ids', Array(128).fill(3).join(','), '--top-p', '1e-9'], "128 ids + 32 new tokens exceed the model's 128 positions"],
    ['a prompt the tiny model cannot hold', ['--model', TINY, '--prompt', 'word '.repeat(5000)], "the prompt: "],
  ])('%s', async (_, argv, message) => expectFailure(await cli(['generate', ...argv]), 1, message));
});

describe('grads: the batch file checked field by field, ids against the model, before any GPU work', () => {
  const seq = { prompt_ids: [1, 2], completion_ids: [3, 4], advantage: 0.5 };
  const good = { objective: 'grpo', sequences: [seq] };
  const batch = (b: unknown) => writeText(dir, 'batch.json', typeof b === 'string' ? b : JSON.stringify(b));
  const run = (b: unknown) => cli(['grads', '--model', MODEL, '--batch', batch(b), '--out', join(dir, 'g.safetensors')]);
  it.each([
    ['not JSON', '{"objective": ', /batch\.json: .*(JSON|expected)/],
    ['a list', '[]', 'batch : must be a JSON object'],
    ['no objective', { sequences: [seq] }, 'batch objective: must be "sft" or "grpo", got undefined'],
    ['objective "ppo"', { ...good, objective: 'ppo' }, 'batch objective: must be "sft" or "grpo", got "ppo"'],
    ['temperature 0', { ...good, temperature: 0 }, 'batch temperature: must be positive'],
    ['temperature -1', { ...good, temperature: -1 }, 'batch temperature: must be positive'],
    ['temperature "1"', { ...good, temperature: '1' }, 'batch temperature: must be a finite number, got "1"'],
    ['temperature 1e999', '{"objective": "grpo", "temperature": 1e999, "sequences": []}', 'batch temperature: must be a finite number, got null'],
    ['no sequences', { objective: 'grpo' }, 'batch sequences: must be a non-empty array'],
    ['empty sequences', { ...good, sequences: [] }, 'batch sequences: must be a non-empty array'],
    ['a sequence that is a list', { ...good, sequences: [[1]] }, 'batch sequences[0]: must be an object'],
    ['a sequence that is null', { ...good, sequences: [null] }, 'batch sequences[0]: must be an object'],
    ['no prompt_ids', { ...good, sequences: [{ ...seq, prompt_ids: undefined }] }, 'batch sequences[0].prompt_ids: must be an array of numbers'],
    ['empty prompt_ids', { ...good, sequences: [{ ...seq, prompt_ids: [] }] }, 'batch sequences[0].prompt_ids: must not be empty'],
    ['a negative id', { ...good, sequences: [{ ...seq, prompt_ids: [1, -2] }] }, 'batch sequences[0].prompt_ids[1]: must be a non-negative integer'],
    ['a fractional id', { ...good, sequences: [{ ...seq, completion_ids: [0.5] }] }, 'batch sequences[0].completion_ids[0]: must be a non-negative integer'],
    ['a string id', { ...good, sequences: [{ ...seq, completion_ids: ['3'] }] }, 'batch sequences[0].completion_ids[0]: must be a non-negative integer'],
    ['no advantage', { ...good, sequences: [{ ...seq, advantage: undefined }] }, 'batch sequences[0].advantage: must be a finite number, got undefined'],
    ['advantage "high"', { ...good, sequences: [{ ...seq, advantage: 'high' }] }, 'batch sequences[0].advantage: must be a finite number, got "high"'],
    ['old_logprobs too short', { ...good, sequences: [{ ...seq, old_logprobs: [-1] }] }, 'batch sequences[0].old_logprobs: has 1 entries, expected 2 (one per completion token)'],
    ['old_logprobs with a string', { ...good, sequences: [{ ...seq, old_logprobs: [-1, 'x'] }] }, 'batch sequences[0].old_logprobs[1]: must be a finite number'],
    ['beta without ref_logprobs', { ...good, beta: 0.1 }, 'batch sequences[0].ref_logprobs: is required when beta ≠ 0'],
    ['negative beta', { ...good, beta: -0.1 }, 'batch beta: must be ≥ 0, got -0.1'],
    ['loss_type "ppo"', { ...good, loss_type: 'ppo' }, 'batch loss_type: must be one of grpo, bnpo, dr_grpo, dapo, got "ppo"'],
    ['negative epsilon_low', { ...good, epsilon_low: -0.2 }, 'batch epsilon_low: must be ≥ 0, got -0.2'],
    ['negative epsilon_high', { ...good, epsilon_high: -1 }, 'batch epsilon_high: must be ≥ 0, got -1'],
    ['epsilon a string', { ...good, epsilon_low: '0.2' }, 'batch epsilon_low: must be a finite number, got "0.2"'],
    ['max_completion_length 0', { ...good, max_completion_length: 0 }, 'batch max_completion_length: must be a whole number ≥ 1, got 0'],
    ['max_completion_length -5', { ...good, max_completion_length: -5 }, 'batch max_completion_length: must be a whole number ≥ 1, got -5'],
    ['max_completion_length 2.5', { ...good, max_completion_length: 2.5 }, 'batch max_completion_length: must be a whole number ≥ 1, got 2.5'],
    ['max_completion_length below a completion', { ...good, max_completion_length: 1 }, 'batch max_completion_length: 1 is shorter than the longest completion (2 tokens)'],
    ['an id outside the vocabulary', { ...good, sequences: [{ ...seq, completion_ids: [3, 96] }] }, 'sequences[0] (prompt_ids + completion_ids): token id 96 at position 3 is outside the vocabulary (0..95)'],
    ['a sequence longer than the positions', { ...good, sequences: [{ ...seq, prompt_ids: Array(127).fill(1) }] }, "sequences[0] (prompt_ids + completion_ids): 129 ids exceed the model's 128 positions"],
    ['an sft sequence outside the vocabulary', { objective: 'sft', sequences: [{ prompt_ids: [1000], completion_ids: [] }] }, 'token id 1000 at position 0 is outside the vocabulary'],
  ] as [string, unknown, string | RegExp][])('%s', async (_, b, message) => {
    expectFailure(await run(b), 1, message);
    expect(existsSync(join(dir, 'g.safetensors'))).toBe(false);
  });
  it.each([
    [['--batch', 'b.json', '--out', 'o'], 2, 'missing required option --model'],
    [['--model', MODEL, '--out', 'o'], 2, 'missing required option --batch'],
    [['--model', MODEL, '--batch', 'b.json'], 2, 'missing required option --out'],
    [['--model', MODEL, '--batch', '/no/batch.json', '--out', 'o'], 1, '/no/batch.json: ENOENT'],
  ] as [string[], 1 | 2, string][])('%j', async (argv, code, message) => expectFailure(await cli(['grads', ...argv]), code, message));
});

describe('info', () => {
  it.each([[['--features']], [['--no-features=1']], [['x']]])('%j is a usage error', async (argv) => {
    expectFailure(await cli(['info', ...argv]), 2, /Unknown option|does not take an argument|Unexpected argument/);
  });
});

describe('eval: options and benchmark folders checked before the model loads', () => {
  const bfcl = tempDir();
  writeText(bfcl, 'BFCL_v3_simple.json', [JSON.stringify({ id: 'simple_0', question: [[{ role: 'user', content: 'q' }]], function: [{ name: 'f', parameters: { type: 'dict', properties: {} } }] })]);
  const base = ['--model', 'embedded'];
  it.each([
    [[...base, '--data', 'tiny:0'], 2, 'missing required option --bench'],
    [[...base, '--bench', 'mmlu', '--data', 'x'], 2, '--bench must be one of bfcl, apibank, synthetic'],
    [[...base, '--bench', 'bfcl'], 2, 'missing required option --data'],
    [[...base, '--bench', 'bfcl', '--data', '/no/such/dir'], 2, '--data /no/such/dir is not a directory'],
    [[...base, '--bench', 'bfcl', '--data', bfcl, '--categories', 'simpel'], 1, 'unknown BFCL category "simpel" (known: simple, multiple'],
    [[...base, '--bench', 'bfcl', '--data', bfcl, '--categories', 'multiple'], 1, 'BFCL_v3_multiple.json not found'],
    [[...base, '--bench', 'bfcl', '--data', bfcl], 1, 'possible_answer/BFCL_v3_simple.json not found (the simple category needs its possible answers)'],
    [[...base, '--bench', 'bfcl', '--data', tempDir()], 1, 'no BFCL_v3_<category>.json files found'],
    [[...base, '--bench', 'apibank', '--data', tempDir()], 1, 'level-1-api.json not found'],
    [[...base, '--bench', 'apibank', '--data', tempDir(), '--categories', 'level-3'], 1, 'unknown API-Bank level "level-3" (known: level-1, level-2)'],
    [[...base, '--bench', 'synthetic', '--data', 'tiny:x'], 1, /tiny:x: ENOENT|ENOENT.*tiny:x/],
    [[...base, '--bench', 'synthetic', '--data', 'tiny:0', '--categories', 'none'], 1, 'no items to evaluate'],
    ...(['0', '-1', '1.5', 'x'] as const).flatMap((v) => (['limit', 'batch', 'max-new-tokens', 'max-prompt-tokens'] as const).map((flag): [string[], 2, string] => [[...base, '--bench', 'synthetic', '--data', 'tiny:0', `--${flag}=${v}`], 2, `--${flag} must be`])),
    [[...base, '--bench', 'synthetic', '--data', 'tiny:0', '--temperature=-1'], 2, '--temperature must be a finite number ≥ 0'],
    [[...base, '--bench', 'synthetic', '--data', 'tiny:0', '--seed=-4'], 2, '--seed must be a whole number in [0, 2^32)'],
    [[...base, '--bench', 'synthetic', '--data', 'tiny:0', '--template', '/no/t.json'], 1, '/no/t.json'],
    [[...base, '--bench', 'synthetic', '--data', 'tiny:0', '--template', writeText(dir, 't.json', '{"preamble": 3}')], 1, /t\.json: .*preamble/],
    [['--bench', 'synthetic', '--data', 'tiny:0'], 2, 'missing required option --model'],
    [['--model', '/no/model', '--bench', 'synthetic', '--data', 'tiny:0'], 1, '/no/model/config.json: not found'],
    [['--model', 'hub:not a repo', '--bench', 'synthetic', '--data', 'tiny:0'], 1, '"not a repo" is not a Hub repo id'],
  ] as [string[], 1 | 2, string | RegExp][])('%j', async (argv, code, message) => {
    expectFailure(await cli(['eval', ...argv]), code, message);
  });
});

describe('train: what fails before any GPU work, and changes nothing', () => {
  const config = (extra: object = {}) => writeText(dir, 'train.json', JSON.stringify({ model: 'embedded', data: { synthetic: { level: 'tiny' } }, ...extra }));
  it.each([
    [() => ['--config', config()], 2, 'missing required option --out'],
    [() => ['--out', join(dir, 'r1')], 2, 'missing required option --config'],
    [() => ['--config', '/no/config.json', '--out', join(dir, 'r2')], 1, /ENOENT.*\/no\/config\.json/],
    [() => ['--config', writeText(dir, 'bad.json', '{"model": '), '--out', join(dir, 'r3')], 1, /bad\.json/],
    [() => ['--config', config({ modle: 'embedded' }), '--out', join(dir, 'r4')], 1, 'modle is not a setting'],
    [() => ['--out', join(dir, 'r5'), '--resume'], 1, /r5\/train-config\.json/],
  ] as [() => string[], 1 | 2, string | RegExp][])('case %#', async (argv, code, message) => {
    expectFailure(await cli(['train', ...argv()]), code, message);
  });

  /** A run folder whose checkpoint's metadata is `meta`: resuming it fails by name and leaves it as it was. */
  const checkpointCases: [string, unknown, string][] = [
    ['no checkpoint metadata', undefined, 'not a Tool-N1 Studio checkpoint (no "checkpoint" metadata)'],
    ['metadata that is not JSON', '{', 'its "checkpoint" metadata is not JSON'],
    ['another format', { format: 'x', version: 1 }, 'format "x" is not "tool-n1-studio-checkpoint"'],
    ['version 2', { format: 'tool-n1-studio-checkpoint', version: 2 }, 'unsupported checkpoint version 2'],
    ['no mode', { format: 'tool-n1-studio-checkpoint', version: 1 }, 'mode must be "full" or "lora", got undefined'],
    ['no state', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', config: {} }, 'state must be an object, got undefined'],
    ['step missing', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { optimizerSteps: 0, rngState: 1 }, config: {} }, 'state.step must be a whole number ≥ 0, got undefined'],
    ['step a string', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { step: '3', optimizerSteps: 0, rngState: 1 }, config: {} }, 'state.step must be a whole number ≥ 0, got "3"'],
    ['step negative', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { step: -2, optimizerSteps: 0, rngState: 1 }, config: {} }, 'state.step must be a whole number ≥ 0, got -2'],
    ['step fractional', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { step: 1.5, optimizerSteps: 0, rngState: 1 }, config: {} }, 'state.step must be a whole number ≥ 0, got 1.5'],
    ['more optimizer steps than steps', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { step: 1, optimizerSteps: 5, rngState: 1 }, config: {} }, 'state.optimizerSteps 5 exceeds state.step 1'],
    ['rngState negative', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { step: 1, optimizerSteps: 1, rngState: -1 }, config: {} }, 'state.rngState must be a 32-bit unsigned integer, got -1'],
    ['config null', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { step: 1, optimizerSteps: 1, rngState: 1 }, config: null }, 'config must be an object, got null'],
    ['config a list', { format: 'tool-n1-studio-checkpoint', version: 1, mode: 'full', state: { step: 1, optimizerSteps: 1, rngState: 1 }, config: [] }, 'config must be an object, got []'],
  ];
  it.each(checkpointCases)('--resume over a checkpoint with %s', async (_, meta, message) => {
    const run = join(tempDir(), 'run');
    mkdirSync(run);
    const bytes = writeSafetensors([{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) }], meta === undefined ? {} : { checkpoint: typeof meta === 'string' ? meta : JSON.stringify(meta) });
    writeFileSync(join(run, 'checkpoint.safetensors'), bytes);
    writeFileSync(join(run, 'train-config.json'), JSON.stringify({ model: 'embedded', data: { synthetic: { level: 'tiny' } } }));
    const configBefore = readFileSync(join(run, 'train-config.json'));
    expectFailure(await cli(['train', '--out', run, '--resume']), 1, `${run}/checkpoint.safetensors: ${message}`);
    expect(new Uint8Array(readFileSync(join(run, 'checkpoint.safetensors')))).toEqual(bytes);
    expect(readFileSync(join(run, 'train-config.json'))).toEqual(configBefore);
    expect(existsSync(join(run, 'events.jsonl'))).toBe(false);
  });

  it('a fresh run into a folder that holds a run is refused', async () => {
    const run = join(tempDir(), 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'checkpoint.safetensors'), 'x');
    expectFailure(await cli(['train', '--config', config(), '--out', run]), 2, 'already holds a run: pass --resume to continue it');
  });
});

describe('a model folder the CLI cannot use is named, for every command that loads one', () => {
  const broken = modelCopy(MODEL, (c) => (c.num_hidden_layers = 10 ** 9));
  it.each([
    ['logits', ['--ids', '1', '--out', join(dir, 'x.json')]],
    ['generate', ['--ids', '1']],
    ['grads', ['--batch', writeText(dir, 'ok.json', JSON.stringify({ objective: 'sft', sequences: [{ prompt_ids: [1], completion_ids: [2] }] })), '--out', join(dir, 'x.safetensors')]],
    ['eval', ['--bench', 'synthetic', '--data', 'tiny:0']],
  ])('%s', async (command, argv) => {
    expectFailure(await cli([command, '--model', broken, ...argv]), 1, 'holds 2 layers but config.json says num_hidden_layers=1000000000');
  });
});
