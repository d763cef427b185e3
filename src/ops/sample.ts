// GPU sampling launcher over shaders/sample.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { params } from './grid.ts';

export interface SamplingParams {
  /** 0 = greedy */
  temperature: number;
  /** 0 = off */
  topK: number;
  /** 1 = off */
  topP: number;
  seed: number;
}

/**
 * Samples one token per row of logits [rows, vocab] into nextIds[rowOff + r], with its log-probability
 * under softmax(logits / T) into logprobs[rowOff + r]. `step` advances the RNG stream.
 */
export function sample(
  rt: GpuRuntime,
  logits: Tensor,
  scratch: Tensor,
  nextIds: Tensor,
  logprobs: Tensor,
  rows: number,
  vocab: number,
  sp: SamplingParams,
  step: number,
  rowOff = 0,
): void {
  rt.dispatch({
    kernel: { shader: 'sample', entry: 'sample_token', includes: ['workgroup_reduce'] },
    buffers: [logits, scratch, nextIds, logprobs],
    params: params([rows, vocab, sp.topK, sp.seed, step, rowOff], [sp.temperature, sp.topP]),
    workgroups: [rows],
  });
}
