// The shipped default (public/models/tiny, warm-started by scripts/warm_start.py) against the script's
// PyTorch model: the engine's logits on one real prompt + SFT target equal the fixture's, and the weights are
// the ones the script wrote (the SHA-256 it stored in the fixture and in the safetensors metadata).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { instantiateModel } from '../../src/model/instantiate.ts';
import { Generator } from '../../src/model/generate.ts';
import { parseHeader } from '../../src/model/safetensors.ts';
import { loadTokenizer } from '../../src/model/tokenizer.ts';
import { generateSynthetic } from '../../src/data/synthetic.ts';
import { sftTarget } from '../../src/data/sft.ts';
import { renderPrompt } from '../../src/toolcall/template.ts';

const TINY = join(import.meta.dirname, '..', '..', 'public', 'models', 'tiny');
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'tiny-default', 'expected.json');

interface Expected {
  sha256: string;
  ids: number[];
  /** the logits are of the last `window` ids, fed alone; their last `rows` rows */
  window: number;
  rows: number;
  logits: number[][];
}

describe('embedded default (warm-started)', () => {
  const expected = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Expected;

  it('holds the weights the warm-start script wrote', async () => {
    const loaded = await loadModel(dirSource(TINY));
    // warm_start.py's weights_sha256: tensor names in sorted order, each name then its raw F32 bytes.
    const hash = createHash('sha256');
    for (const name of [...loaded.tensors.keys()].sort()) {
      const t = loaded.tensors.get(name)!;
      expect(t.dtype).toBe('F32');
      hash.update(name).update(t.bytes);
    }
    expect(hash.digest('hex')).toBe(expected.sha256);
    const file = readFileSync(join(TINY, 'model.safetensors'));
    expect(parseHeader(file, 'model.safetensors').metadata.sha256).toBe(expected.sha256);
  });

  it('was trained on prompts and targets exactly as the studio renders them now', () => {
    // The fixture's sequence is the first studio train prompt (synthetic tiny, seed 0) and its SFT target, as
    // scripts/warm_start_data.ts rendered them: a change to the template or the tokenizer shows up here.
    const json = (file: string) => JSON.parse(readFileSync(join(TINY, file), 'utf8'));
    const tok = loadTokenizer(json('tokenizer.json'), json('tokenizer_config.json'), json('generation_config.json'));
    const [first] = generateSynthetic({ level: 'tiny', split: 'train', seed: 0, count: 1 });
    expect([...tok.encode(renderPrompt(first)), ...tok.encode(sftTarget(first, 'templated'))]).toEqual(expected.ids);
  });

  it("gives the PyTorch model's logits on a real answer (within 1e-4 of the largest)", async () => {
    const rt = await gpu();
    const loaded = await loadModel(dirSource(TINY));
    const model = instantiateModel(rt, loaded, { maxPositions: expected.window, matrixDtype: 'f32' });
    const gen = new Generator(model);
    const V = loaded.config.vocabSize;
    const all = await gen.allLogits(expected.ids.slice(-expected.window));
    gen.release();
    const got = all.subarray((expected.window - expected.rows) * V);
    const want = expected.logits.flat();
    expect(got.length).toBe(want.length);
    const scale = Math.max(...want.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst / scale).toBeLessThan(1e-4);
  });
});
