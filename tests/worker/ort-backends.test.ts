// The Worker's onnxruntime-web backends (WASM EP here): a policy exported in the Worker and an ONNX folder
// picked as files decode through the Playground's generate and the Benchmarks' runner; a refused load keeps
// the backend's model; Export ONNX is export-onnx's folder in one tar.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { TINY } from '../fuzz/harness.ts';
import { embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel, type LoadedModel } from '../../src/model/source.ts';
import { tokenizerForModel, type QwenTokenizer } from '../../src/model/tokenizer.ts';
import { setUpOrtForNode } from '../../src/onnx/ort-node.ts';
import { exportOnnx } from '../../src/cli/commands/export-onnx.ts';
import { Playground } from '../../src/worker/playground.ts';
import { Benchmarks } from '../../src/worker/benchmark.ts';
import { onnxDownload } from '../../src/worker/ort-backends.ts';
import type { GenerateArgs } from '../../src/worker/protocol.ts';

let files: LoadedModel;
let tokenizer: QwenTokenizer;
const playground = new Playground();
const policy = async () => ({ files, tokenizer });
const hooks = { onStart() {}, onStep() {} };
const args = (backend: GenerateArgs['backend']): GenerateArgs => ({
  backend, question: 'What is the weather in Oslo?', tools: ['get_weather'], n: 2, maxNewTokens: 6, sampling: { temperature: 0, topP: 1, topK: 0, seed: 0 },
});

/** A folder on disk as a folder picker's File objects (webkitRelativePath "folder/sub/name"). */
function picked(dir: string): File[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => {
    const path = join(e.parentPath, e.name);
    const file = new File([readFileSync(path)], e.name);
    Object.defineProperty(file, 'webkitRelativePath', { value: `picked/${relative(dir, path)}` });
    return file;
  });
}

beforeAll(async () => {
  await setUpOrtForNode(1);
  files = await loadModel(embeddedDirSource());
  tokenizer = await tokenizerForModel(files);
});

describe('worker: onnxruntime-web backends', () => {
  it('generate on a backend with no model says to load one', async () => {
    const rt = await gpu();
    await expect(playground.generate(rt, args('ort-wasm'), hooks)).rejects.toThrow('no model on onnxruntime-web (wasm): load one for it in the Playground first');
  });

  it('the exported policy decodes through the Playground; greedy, both completions are the same', async () => {
    const rt = await gpu();
    const info = await playground.ort.load('wasm', { kind: 'policy', policy: 'loaded' }, policy, {});
    expect(info).toMatchObject({ backend: 'wasm', label: 'embedded tiny model', layers: 2, vocab: files.config.vocabSize, kvType: 'float32' });
    const report = await playground.generate(rt, args('ort-wasm'), hooks);
    expect(report.completions).toHaveLength(2);
    expect(report.completions[0].tokens).toBeGreaterThan(0);
    expect(report.completions[1].text).toBe(report.completions[0].text);
    expect(report.gpuBytes).toBeNull();
  });

  it('an ONNX folder picked as files loads; a folder without onnx/ is refused and the model stays', async () => {
    const rt = await gpu();
    const out = mkdtempSync(join(tmpdir(), 'ort-backend-'));
    await exportOnnx.run(['--model', 'embedded', '--out', out]);
    const before = await playground.generate(rt, args('ort-wasm'), hooks);
    await expect(playground.ort.load('wasm', { kind: 'files', files: picked(TINY) }, policy, {})).rejects.toThrow(
      /no ONNX graph \(looked for onnx\/model\.onnx, onnx\/model_fp16\.onnx\)/,
    );
    const info = await playground.ort.load('wasm', { kind: 'files', files: picked(out) }, policy, {});
    expect(info).toMatchObject({ label: 'picked', graph: 'picked/onnx/model.onnx' });
    const after = await playground.generate(rt, args('ort-wasm'), hooks);
    expect(after.completions.map((c) => c.text)).toEqual(before.completions.map((c) => c.text)); // same weights, same tokens
  });

  it('the Benchmarks run on the ORT decoder and name it', async () => {
    const rt = await gpu();
    const report = await new Benchmarks().run(playground.decoder(rt, 'ort-wasm'), {
      backend: 'ort-wasm', source: { bench: 'synthetic', level: 'tiny', seed: 0, count: 2 }, limit: 0, maxNewTokens: 8, batchSize: 2, model: 'loaded',
    }, { onStart() {}, onProgress() {} });
    expect(report.model).toBe('picked on onnxruntime-web (wasm)');
    expect(report.run.entries).toHaveLength(2);
  });

  it('Export ONNX is export-onnx’s folder as one tar', async () => {
    const { name, blob } = onnxDownload(files, 'f16');
    expect(name).toBe('embedded-tiny-model-onnx.tar');
    const tar = new Uint8Array(await blob.arrayBuffer());
    const names: string[] = [];
    for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
      names.push(new TextDecoder().decode(tar.subarray(at, at + 100)).replace(/\0.*$/s, ''));
      const size = parseInt(new TextDecoder().decode(tar.subarray(at + 124, at + 136)), 8);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    expect(names).toEqual(['onnx/model_fp16.onnx', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `embedded-tiny-model-onnx/${f}`));
  });
});
