// Model sources against real files: a local HTTP server with the Hub's URL layout, and folders on disk.
import { createServer, type Server } from 'node:http';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubSource, filesSource, loadModel, ModelLoadError, type LoadProgress } from '../../src/model/source.ts';
import { dirSource, embeddedDirSource } from '../../src/model/source-node.ts';
import { expectedTensors } from '../../src/model/config.ts';
import { parseSafetensors, toFloat32, writeSafetensors, type WritableTensor } from '../../src/model/safetensors.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');
const TINY = join(import.meta.dirname, '..', '..', 'public', 'models', 'tiny');

// Serves /<org>/<name>/resolve/main/<file>: "test-org/tiny" is the embedded model, "test-org/<fixture>" a
// fixture; under "slow-org" the same files trickle out in 1 KiB chunks so a download can be cancelled.
let server: Server;
let baseUrl = '';
const requests: string[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/(test-org|slow-org)\/([\w.-]+)\/resolve\/main\/([\w.-]+)$/.exec(req.url ?? '');
    const dir = m && (m[2] === 'tiny' ? TINY : join(FIXTURES, m[2]));
    if (!m || !dir || !existsSync(join(dir, m[3]))) {
      res.writeHead(404, 'Not Found').end('Entry not found');
      return;
    }
    const body = readFileSync(join(dir, m[3]));
    res.writeHead(200, { 'content-length': body.length });
    if (m[1] === 'test-org') {
      res.end(body);
      return;
    }
    for (let i = 0; i < body.length && !res.destroyed; i += 1024) {
      res.write(body.subarray(i, i + 1024));
      await sleep(2);
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no server address');
  baseUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** An in-memory stand-in for the browser's Cache Storage (only what the Hub source uses). */
function memoryCaches(): CacheStorage {
  const stores = new Map<string, Map<string, Uint8Array>>();
  const open = async (name: string) => {
    const store = stores.get(name) ?? new Map<string, Uint8Array>();
    stores.set(name, store);
    return {
      async match(url: string) {
        const bytes = store.get(url);
        return bytes && new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.length) } });
      },
      async put(url: string, res: Response) {
        store.set(url, new Uint8Array(await res.arrayBuffer()));
      },
    };
  };
  return { open, delete: async (name: string) => stores.delete(name) } as unknown as CacheStorage;
}

/** A copy of a fixture folder that a test may break. */
function scratchCopy(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tooln1-model-'));
  for (const f of readdirSync(join(FIXTURES, fixture))) copyFileSync(join(FIXTURES, fixture, f), join(dir, f));
  return dir;
}

function rewriteWeights(dir: string, edit: (tensors: WritableTensor[]) => WritableTensor[]): void {
  const { tensors } = parseSafetensors(readFileSync(join(dir, 'model.safetensors')), 'model.safetensors');
  const list: WritableTensor[] = [...tensors.values()].map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: toFloat32(t).slice() }));
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(edit(list)));
}

describe('Hub source (local server with the Hub URL layout)', () => {
  it('loads a model with its tokenizer files and reports byte progress', async () => {
    const events: LoadProgress[] = [];
    const model = await loadModel(hubSource('test-org/tiny', { baseUrl, cache: null }), { onProgress: (p) => events.push(p) });
    expect(model.source).toBe('test-org/tiny');
    expect(model.config.hiddenSize).toBe(64);
    expect([...model.tensors.keys()]).toEqual([...expectedTensors(model.config).keys()]);
    expect(model.tokenizerJson).toBeDefined();
    expect(model.tokenizerConfig?.chat_template).toContain('<|im_start|>');
    expect(model.generationConfig?.eos_token_id).toEqual([4002, 4000]);

    const size = readFileSync(join(TINY, 'model.safetensors')).length;
    const weights = events.filter((e) => e.file === 'model.safetensors');
    expect(weights.at(-1)).toEqual({ file: 'model.safetensors', loaded: size, total: size });
    for (let i = 1; i < weights.length; i++) expect(weights[i].loaded).toBeGreaterThan(weights[i - 1].loaded);
    expect(new Set(events.map((e) => e.file))).toEqual(
      new Set(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model.safetensors']),
    );
  });

  it('a missing optional file is fine; a missing repo is a clear 404 error naming the URL', async () => {
    const model = await loadModel(hubSource('test-org/gqa-tied-bf16', { baseUrl, cache: null }));
    expect(model.tokenizerJson).toBeUndefined();
    expect(model.tensors.get('model.embed_tokens.weight')?.dtype).toBe('BF16');
    await expect(loadModel(hubSource('test-org/no-such-model', { baseUrl, cache: null }))).rejects.toThrow(
      new ModelLoadError(`${baseUrl}/test-org/no-such-model/resolve/main/config.json: not found`),
    );
    expect(() => hubSource('not a repo id')).toThrow(/not a Hub repo id/);
  });

  it('cancels a download through an AbortSignal', async () => {
    const controller = new AbortController();
    const seen: LoadProgress[] = [];
    const loading = loadModel(hubSource('slow-org/gqa-untied-f32', { baseUrl, cache: null }), {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.file === 'model.safetensors' && p.loaded >= 4096) controller.abort();
      },
    });
    await expect(loading).rejects.toMatchObject({ name: 'AbortError' });
    const last = seen.at(-1)!;
    expect(last.file).toBe('model.safetensors');
    expect(last.loaded).toBeLessThan(last.total!);
  });

  it('caches downloads so a reload does not fetch again', async () => {
    const caches = memoryCaches();
    const first = await loadModel(hubSource('test-org/gqa-untied-f32', { baseUrl, cache: caches }));
    const before = requests.length;
    const second = await loadModel(hubSource('test-org/gqa-untied-f32', { baseUrl, cache: caches }));
    // Only the files the repo does not have (the tokenizer files) are asked for again.
    expect(requests.slice(before).filter((r) => r.endsWith('/model.safetensors') || r.endsWith('/config.json'))).toEqual([]);
    expect(toFloat32(second.tensors.get('lm_head.weight')!)).toEqual(toFloat32(first.tensors.get('lm_head.weight')!));
  });

  it('rejects a wrong checkpoint from its header, before the weights are downloaded', async () => {
    const seen: LoadProgress[] = [];
    // gqa3-tied-f16 served under a config it does not match: fetch its weights with the tiny config by
    // pointing a source at both.
    const tiny = hubSource('slow-org/tiny', { baseUrl, cache: null });
    const fixture = hubSource('slow-org/gqa3-tied-f16', { baseUrl, cache: null });
    const mixed = { ...tiny, open: (file: string, signal?: AbortSignal) => (file === 'model.safetensors' ? fixture : tiny).open(file, signal) };
    await expect(loadModel(mixed, { onProgress: (p) => seen.push(p) })).rejects.toThrow(
      /model\.safetensors: tensor "model\.embed_tokens\.weight" has shape \[64,48\] but config\.json implies \[4032,64\]/,
    );
    const last = seen.at(-1)!;
    expect(last.file).toBe('model.safetensors');
    expect(last.loaded).toBeLessThan(last.total! / 2);
  });
});

describe('local sources', () => {
  it('loads every fixture folder with the dtype it was stored in', async () => {
    const dtypes: Record<string, string> = { 'gqa-tied-bf16': 'BF16', 'gqa-untied-f32': 'F32', 'gqa3-tied-f16': 'F16' };
    for (const [name, dtype] of Object.entries(dtypes)) {
      const model = await loadModel(dirSource(join(FIXTURES, name)));
      expect(model.source).toBe(name);
      expect(model.tensors.size).toBe(expectedTensors(model.config).size);
      for (const t of model.tensors.values()) expect(t.dtype).toBe(dtype);
    }
  });

  it('loads the embedded default model from public/models/tiny', async () => {
    const model = await loadModel(embeddedDirSource());
    expect(model.source).toBe('embedded tiny model');
    expect(model.config).toMatchObject({ hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, tieWordEmbeddings: true, vocabSize: 4032 });
    expect(model.tokenizerJson).toBeDefined();
  });

  it('loads picked files (browser File objects), preferring the top folder', async () => {
    const dir = join(FIXTURES, 'gqa-untied-f32');
    const files = readdirSync(dir).map((f) => new File([readFileSync(join(dir, f))], f));
    const decoy = new File(['{}'], 'config.json');
    Object.defineProperty(decoy, 'webkitRelativePath', { value: 'model/sub/config.json' });
    const model = await loadModel(filesSource([decoy, ...files], 'picked'));
    expect(model.config.vocabSize).toBe(96);
    expect(model.source).toBe('picked');
  });

  it('loads sharded weights through model.safetensors.index.json', async () => {
    const dir = scratchCopy('gqa-tied-bf16');
    try {
      const { tensors } = parseSafetensors(readFileSync(join(dir, 'model.safetensors')), 'm');
      const names = [...tensors.keys()];
      const shards = [names.slice(0, 10), names.slice(10)];
      const weightMap: Record<string, string> = {};
      shards.forEach((part, i) => {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        const list = part.map((n) => ({ name: n, dtype: 'BF16' as const, shape: tensors.get(n)!.shape, data: new Uint16Array(new Uint8Array(tensors.get(n)!.bytes).buffer) }));
        writeFileSync(join(dir, file), writeSafetensors(list));
        for (const n of part) weightMap[n] = file;
      });
      rmSync(join(dir, 'model.safetensors'));
      writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
      const model = await loadModel(dirSource(dir));
      expect(model.tensors.size).toBe(names.length);
      expect(toFloat32(model.tensors.get('model.norm.weight')!)).toEqual(toFloat32(tensors.get('model.norm.weight')!));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('load errors name the file and the tensor', () => {
  async function loadBroken(fixture: string, breakIt: (dir: string) => void): Promise<Error> {
    const dir = scratchCopy(fixture);
    try {
      breakIt(dir);
      return await loadModel(dirSource(dir)).then(
        () => new Error('expected the load to fail'),
        (e: Error) => e,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  }

  it('a missing tensor', async () => {
    const e = await loadBroken('gqa-untied-f32', (dir) => rewriteWeights(dir, (ts) => ts.filter((t) => t.name !== 'model.layers.1.mlp.up_proj.weight')));
    expect(e).toBeInstanceOf(ModelLoadError);
    expect(e.message).toMatch(/model\.safetensors: tensor "model\.layers\.1\.mlp\.up_proj\.weight" \[64,32\] is missing/);
  });

  it('a shape that disagrees with config.json', async () => {
    const e = await loadBroken('gqa-untied-f32', (dir) => {
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 72 }));
    });
    expect(e.message).toMatch(/model\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[64,32\] but config\.json implies \[72,32\]/);
  });

  it('a layer count that disagrees with the weights (one layer too many, or 10⁹), before allocating', async () => {
    for (const layers of [1, 1e9]) {
      const e = await loadBroken('gqa-tied-bf16', (dir) => {
        const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: layers }));
      });
      expect(e.message).toMatch(new RegExp(`model\\.safetensors: holds 2 layers but config\\.json says num_hidden_layers=${layers}`));
    }
  });

  it('an unsupported dtype', async () => {
    const e = await loadBroken('gqa-untied-f32', (dir) => {
      const { tensors } = parseSafetensors(readFileSync(join(dir, 'model.safetensors')), 'm');
      const header = Object.fromEntries([...tensors.values()].map((t, i, all) => {
        const begin = all.slice(0, i).reduce((s, x) => s + x.bytes.length, 0);
        const dtype = t.name === 'model.norm.weight' ? 'I32' : t.dtype;
        return [t.name, { dtype, shape: t.shape, data_offsets: [begin, begin + t.bytes.length] }];
      }));
      const original = readFileSync(join(dir, 'model.safetensors'));
      const json = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8));
      const data = original.subarray(8 + Number(original.readBigUInt64LE(0)));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([len, json, data]));
    });
    expect(e.message).toMatch(/tensor "model\.norm\.weight" has dtype I32; weights must be F32, F16 or BF16/);
  });

  it('a truncated file', async () => {
    const e = await loadBroken('gqa3-tied-f16', (dir) => {
      const bytes = readFileSync(join(dir, 'model.safetensors'));
      writeFileSync(join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    });
    expect(e.name).toBe('SafetensorsError');
    // The first tensor the cut reaches is named.
    expect(e.message).toMatch(/model\.safetensors: tensor "model\.layers\.1\.mlp\.down_proj\.weight": truncated: file is 70884 bytes, header describes 70984/);
  });

  it('a config missing a field, and a corrupt config', async () => {
    const missing = await loadBroken('gqa3-tied-f16', (dir) => {
      const { vocab_size: _v, ...config } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    });
    expect(missing.name).toBe('ConfigError');
    expect(missing.message).toMatch(/config\.json: missing required field "vocab_size"/);
    const corrupt = await loadBroken('gqa3-tied-f16', (dir) => writeFileSync(join(dir, 'config.json'), '{"hidden_size": 4'));
    expect(corrupt.message).toMatch(/config\.json: not valid JSON/);
  });

  it('no weights at all', async () => {
    const e = await loadBroken('gqa3-tied-f16', (dir) => rmSync(join(dir, 'model.safetensors')));
    expect(e.message).toMatch(/model\.safetensors: not found \(and no model\.safetensors\.index\.json either\)/);
  });
});
