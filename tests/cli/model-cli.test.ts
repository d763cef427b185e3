// The inference CLI contracts: info, logits (full-vocabulary rows per position), generate (JSON with
// completions and timings), and clear errors for bad input.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'tests', 'fixtures', 'models', 'gqa-untied-f32');

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

describe('CLI', () => {
  it('info prints the adapter as JSON', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'info'], { cwd: ROOT, encoding: 'utf8' }));
    expect(out.adapter.vendor.length + out.adapter.description.length).toBeGreaterThan(0);
    expect(out.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });

  it('logits writes one full-vocabulary row per input position, matching PyTorch', () => {
    const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { ids: number[]; logits: number[][] };
    const out = join(mkdtempSync(join(tmpdir(), 'logits-')), 'logits.json');
    const r = cli(['logits', '--model', FIXTURE, '--ids', expected.ids.join(','), '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const { logits } = JSON.parse(readFileSync(out, 'utf8')) as { logits: number[][] };
    expect(logits.length).toBe(expected.ids.length);
    expect(logits[0].length).toBe(96);
    const scale = Math.max(...expected.logits.flat().map(Math.abs));
    const worst = Math.max(...logits.flat().map((v, i) => Math.abs(v - expected.logits.flat()[i])));
    expect(worst / scale).toBeLessThan(1e-4);
  });

  it('generate prints completions and timings; the same seed gives the same text', () => {
    const args = ['generate', '--model', join(ROOT, 'public', 'models', 'tiny'), '--prompt', 'Hello', '--n', '2', '--max-new-tokens', '4', '--temperature', '0.9', '--top-p', '0.9', '--seed', '5'];
    const a = cli(args);
    expect(a.status, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(out.completions).toHaveLength(2);
    expect(out.completions[0].ids.length).toBeGreaterThan(0);
    expect(typeof out.completions[0].text).toBe('string');
    expect(out.timings.decode_tokens_per_s).toBeGreaterThan(0);
    expect(JSON.parse(cli(args).stdout).completions).toEqual(out.completions);
  });

  it('bad input gets a clear error and a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'broken-model-'));
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(FIXTURE, 'config.json'), join(dir, 'config.json'));
    const weights = readFileSync(join(FIXTURE, 'model.safetensors'));
    writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, weights.length - 100)); // truncated
    const r = cli(['logits', '--model', dir, '--ids', '1,2', '--out', join(dir, 'x.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/model\.safetensors.*truncated/);
    const usage = cli(['logits', '--ids', 'a,b']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--ids must be a comma-separated list/);
  });
});
