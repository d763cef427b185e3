// Full-parameter gradients of an objective on one batch, under Hugging Face names (the `grads` command,
// and the check of the whole backward against PyTorch autograd).
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { LoadedModel } from '../model/source.ts';
import { Policy } from './policy.ts';
import { accumulateGradients } from './gradients.ts';
import type { GradBatch } from './batch-file.ts';

export async function batchGradients(
  rt: GpuRuntime, loaded: LoadedModel, batch: GradBatch, recompute = false,
): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const longest = Math.max(...batch.sequences.map((s) => s.promptIds.length + s.completionIds.length));
  const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: longest, seed: 0 });
  policy.zeroGrads();
  const result = await accumulateGradients(policy.model, policy.grads, batch.sequences, batch.objective, batch.temperature, batch.sequences.length, recompute);
  const grads = new Map<string, Float32Array>();
  const cols = (shape: readonly number[]) => (shape.length === 2 ? shape[1] : 1);
  for (const p of policy.params) {
    const all = (await rt.read(p.grad)) as Float32Array;
    for (const s of policy.hfSlices.get(p.name)!) {
      const w = cols(p.grad.shape);
      grads.set(s.hfName, all.slice(s.rowStart * w, (s.rowStart + s.rows) * w));
    }
  }
  policy.release();
  return { loss: result.loss, grads };
}
