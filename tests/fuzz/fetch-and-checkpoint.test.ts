// Fuzz: failed downloads name the URL and the cause (a local server answering with errors, a port nobody
// listens on, a host DNS does not know, the browser's hidden reason); checkpoints damaged tensor by tensor
// are refused before a single value reaches the policy.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchText } from '../../src/data/load.ts';
import { urlFiles } from '../../src/eval/suites.ts';
import { hubSource, loadModel } from '../../src/model/source.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { fetchFailureReason } from '../../src/util/fetch.ts';
import { parseSafetensors, writeSafetensors, type WritableTensor } from '../../src/model/safetensors.ts';
import { Policy } from '../../src/train/policy.ts';
import { readCheckpointMeta, restoreCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.ts';
import { gpu } from '../helpers/gpu.ts';
import { FIXTURES, cli, expectFailure, expectNoLeak } from './harness.ts';

let server: Server;
let base = '';
let closedPort = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    const status = Number(/\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status === 200 ? '{"ok": true}' : 'no');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('fetch failures: the URL and the cause', () => {
  it.each([
    [500, 'HTTP 500 Internal Server Error'],
    [503, 'HTTP 503 Service Unavailable'],
    [403, 'HTTP 403 Forbidden'],
    [404, 'HTTP 404 Not Found'],
    [418, "HTTP 418 I'm a Teapot"],
  ])('a dataset URL answering %i', async (status, message) => {
    await expect(fetchText(`${base}/status/${status}/data.jsonl`)).rejects.toThrow(`GET ${base}/status/${status}/data.jsonl: ${message}`);
  });
  it('a refused connection', async () => {
    const url = `http://127.0.0.1:${closedPort}/data.jsonl`;
    await expect(fetchText(url)).rejects.toThrow(`GET ${url}: connection refused (nothing listens at that address and port) (ECONNREFUSED)`);
  });
  it('a host that does not exist (DNS)', async () => {
    await expect(fetchText('http://no-such-host.invalid/data.jsonl')).rejects.toThrow(/^GET http:\/\/no-such-host\.invalid\/data\.jsonl: DNS lookup failed.*\((ENOTFOUND|EAI_AGAIN)\)$/);
  });
  it("the browser's opaque failure names CORS and the network as the likely causes", () => {
    expect(fetchFailureReason(new TypeError('Failed to fetch'))).toBe(
      'network error (Failed to fetch): the host is unreachable, or the server does not allow this page to read it (CORS)',
    );
    expect(fetchFailureReason(Object.assign(new TypeError('fetch failed'), { cause: { code: 'CERT_HAS_EXPIRED' } }))).toBe('TLS certificate problem (CERT_HAS_EXPIRED)');
    expect(fetchFailureReason(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }))).toBe('connection reset by the server (ECONNRESET)');
  });
  it.each([[500, 'HTTP 500 Internal Server Error'], [403, 'HTTP 403 Forbidden']])('a benchmark folder URL answering %i', async (status, message) => {
    await expect(urlFiles(`${base}/status/${status}`)('BFCL_v3_simple.json')).rejects.toThrow(`GET ${base}/status/${status}/BFCL_v3_simple.json: ${message}`);
    expect(await urlFiles(`${base}/status/404`)('x.json')).toBeNull(); // a missing file is not an error
  });
  it.each([
    [401, 'HTTP 401 Unauthorized (repo not found, private or gated: the app cannot log in)'],
    [500, 'HTTP 500 Internal Server Error'],
  ])('a Hub mirror answering %i', async (status, message) => {
    const source = hubSource('org/model', { baseUrl: `${base}/status/${status}`, cache: null });
    await expect(loadModel(source)).rejects.toThrow(`${base}/status/${status}/org/model/resolve/main/config.json: ${message}`);
  });
  it('a Hub mirror that refuses the connection', async () => {
    const source = hubSource('org/model', { baseUrl: `http://127.0.0.1:${closedPort}`, cache: null });
    await expect(loadModel(source)).rejects.toThrow(`http://127.0.0.1:${closedPort}/org/model/resolve/main/config.json: connection refused`);
  });
  it.each([
    [['score', '--in', 'URL/status/502/cases.jsonl'], 'score: GET URL/status/502/cases.jsonl: HTTP 502 Bad Gateway'],
    [['eval', '--model', 'embedded', '--bench', 'bfcl', '--data', 'URL/status/500/'], 'eval: GET URL/status/500/BFCL_v3_simple.json: HTTP 500 Internal Server Error'],
  ])('the CLI: %j', async (argv, message) => {
    const r = await cli(argv.map((a) => a.replace('URL', base)));
    expectFailure(r, 1, message.replace('URL', base));
  });
});

describe('checkpoints: every tensor checked against the policy before any is written', () => {
  const MODEL = join(FIXTURES, 'gqa-untied-f32');
  let policy: Policy;
  let good: Uint8Array;
  let before: Float32Array;
  beforeAll(async () => {
    const rt = await gpu();
    const loaded = await loadModel(dirSource(MODEL));
    policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: 8, seed: 1 });
    good = await saveCheckpoint(policy, { step: 3, optimizerSteps: 3, rngState: 9 }, { any: 'config' });
    before = (await rt.read(policy.params[0].param)) as Float32Array;
  });
  afterAll(() => policy?.release());

  /** The good checkpoint's tensors, edited, with its metadata (or another). */
  const edited = (edit: (tensors: WritableTensor[]) => WritableTensor[], metadata?: Record<string, string>) => {
    const parsed = parseSafetensors(good, 'good');
    const tensors = [...parsed.tensors.values()].map((t): WritableTensor => ({ name: t.name, dtype: 'F32', shape: [...t.shape], data: new Float32Array(new Uint8Array(t.bytes).buffer) }));
    return writeSafetensors(edit(tensors), metadata ?? parsed.metadata);
  };
  const name0 = () => policy.params[0].name;

  it('the good checkpoint restores its state', () => {
    expect(restoreCheckpoint(policy, good, 'good').state).toEqual({ step: 3, optimizerSteps: 3, rngState: 9 });
  });

  it.each([
    ['a tensor missing', () => edited((ts) => ts.slice(1)), () => `bad: tensor ${name0()} is missing (does the run's model and mode match?)`],
    ['an Adam moment missing', () => edited((ts) => ts.filter((t) => t.name !== `${name0()}.adam_v`)), () => `bad: tensor ${name0()}.adam_v is missing`],
    ['a tensor of another shape', () => edited((ts) => ts.map((t, i) => (i === 0 ? { ...t, shape: [t.data.length], data: t.data } as WritableTensor : t))), () => `bad: ${name0()} has shape [`],
    ['an extra tensor', () => edited((ts) => [...ts, { name: 'model.layers.9.mlp.up_proj.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]), () => 'bad: tensor model.layers.9.mlp.up_proj.weight is not part of this policy (1 such tensors'],
    ['a NaN in a weight', () => edited((ts) => ts.map((t, i) => (i === 0 ? { ...t, data: t.data.map((x, j) => (j === 5 ? NaN : x)) } as WritableTensor : t))), () => `bad: ${name0()} holds NaN at element 5`],
    ['an Inf in a moment', () => edited((ts) => ts.map((t) => (t.name === `${name0()}.adam_m` ? { ...t, data: t.data.map((x, j) => (j === 0 ? Infinity : x)) } as WritableTensor : t))), () => `bad: ${name0()}.adam_m holds Infinity at element 0`],
    ['a LoRA checkpoint for a full run', () => edited((ts) => ts, { checkpoint: JSON.stringify({ ...readCheckpointMeta(good, 'good'), mode: 'lora' }) }), () => 'bad: a lora checkpoint cannot resume a full run'],
    ['negative step', () => edited((ts) => ts, { checkpoint: JSON.stringify({ ...readCheckpointMeta(good, 'good'), state: { step: -1, optimizerSteps: 0, rngState: 0 } }) }), () => 'bad: state.step must be a whole number ≥ 0, got -1'],
    ['truncated file', () => good.subarray(0, good.length - 10), () => 'bad: tensor'],
  ] as [string, () => Uint8Array, () => string][])('%s: refused, the policy untouched', async (_, bytes, message) => {
    let error: Error | undefined;
    try {
      restoreCheckpoint(policy, bytes(), 'bad');
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toContain(message());
    expectNoLeak(error!.message);
  });

  it('after all those refusals the policy holds exactly what the good checkpoint restored', async () => {
    expect((await policy.rt.read(policy.params[0].param)) as Float32Array).toEqual(before);
  });
});
