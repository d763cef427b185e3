import { readFileSync, writeFileSync } from 'node:fs';
import type { CliCommand } from '../command.ts';
import { parseCommandArgs, requireString } from '../args.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import { dirSource } from '../../model/source-node.ts';
import { loadModel } from '../../model/source.ts';
import { parseGradBatch } from '../../train/batch-file.ts';
import { batchGradients } from '../../train/grads.ts';
import { writeSafetensors } from '../../model/safetensors.ts';
import { checkTokenIds } from '../../model/inputs.ts';

export const grads: CliCommand = {
  name: 'grads',
  summary: 'objective (sft | grpo) on a batch; write every parameter gradient (HF names, F32) with the loss',
  usage: 'grads --model DIR --batch FILE.json --out FILE.safetensors',
  async run(argv) {
    const args = parseCommandArgs(argv, { model: { type: 'string' }, batch: { type: 'string' }, out: { type: 'string' } });
    const modelDir = requireString(args, 'model');
    const batchPath = requireString(args, 'batch');
    const out = requireString(args, 'out');
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(batchPath, 'utf8'));
    } catch (e) {
      throw new Error(`${batchPath}: ${(e as Error).message}`);
    }
    let batch;
    try {
      batch = parseGradBatch(json);
    } catch (e) {
      throw new Error(`${batchPath}: ${(e as Error).message}`);
    }
    const loaded = await loadModel(dirSource(modelDir));
    const limits = { vocabSize: loaded.config.vocabSize, maxPositions: loaded.config.maxPositionEmbeddings };
    batch.sequences.forEach((s, i) => checkTokenIds([...s.promptIds, ...s.completionIds], limits, `${batchPath}: sequences[${i}] (prompt_ids + completion_ids)`));
    const rt = await createNodeRuntime();
    const { loss, grads } = await batchGradients(rt, loaded, batch);
    if (!Number.isFinite(loss)) throw new Error(`the loss is ${loss}: no gradients written`);
    const tensors = [...loaded.tensors.keys()].map((name) => ({
      name,
      dtype: 'F32' as const,
      shape: loaded.tensors.get(name)!.shape,
      data: grads.get(name)!,
    }));
    writeFileSync(out, writeSafetensors(tensors, { loss: String(loss) }));
    process.stderr.write(`loss ${loss}; ${tensors.length} gradients → ${out}\n`);
    rt.destroy();
  },
};
