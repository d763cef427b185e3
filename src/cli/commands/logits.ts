import { writeFileSync } from 'node:fs';
import type { CliCommand } from '../command.ts';
import { parseCommandArgs, parseIdList, requireString } from '../args.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import { dirSource } from '../../model/source-node.ts';
import { loadModel } from '../../model/source.ts';
import { instantiateModel } from '../../model/instantiate.ts';
import { Generator } from '../../model/generate.ts';
import { checkTokenIds } from '../../model/inputs.ts';

export const logits: CliCommand = {
  name: 'logits',
  summary: 'write full-vocabulary logits for every input position (float32) as JSON',
  usage: 'logits --model DIR --ids 1,2,3 --out FILE.json [--f32]',
  async run(argv) {
    const args = parseCommandArgs(argv, {
      model: { type: 'string' },
      ids: { type: 'string' },
      out: { type: 'string' },
      f32: { type: 'boolean' },
    });
    const ids = parseIdList(requireString(args, 'ids'), 'ids');
    const out = requireString(args, 'out');
    const loaded = await loadModel(dirSource(requireString(args, 'model')));
    checkTokenIds(ids, { vocabSize: loaded.config.vocabSize, maxPositions: loaded.config.maxPositionEmbeddings }, '--ids');
    const rt = await createNodeRuntime();
    const model = instantiateModel(rt, loaded, { maxPositions: ids.length, matrixDtype: args.f32 ? 'f32' : undefined });
    const gen = new Generator(model);
    const flat = await gen.allLogits(ids);
    const V = loaded.config.vocabSize;
    const rows = Array.from({ length: ids.length }, (_, t) => Array.from(flat.subarray(t * V, (t + 1) * V)));
    writeFileSync(out, JSON.stringify({ logits: rows }));
    rt.destroy();
  },
};
