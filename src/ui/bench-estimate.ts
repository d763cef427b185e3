// Sizing a benchmark run for the device: defaults that finish in minutes on the adapter at hand, and the time
// a run will take from the decoding rate this session has measured, said before it starts.
import type { GpuInfo } from '../gpu/device.ts';

/** Adapters that run WebGPU on the CPU (SwiftShader, llvmpipe/lavapipe): decoding there is ~100× slower. */
export function isCpuAdapter(info: GpuInfo): boolean {
  return /swiftshader|llvmpipe|lavapipe|cpu/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

export interface BenchSize {
  /** synthetic prompts */
  count: number;
  /** BFCL / API-Bank entries per category */
  limit: number;
  maxNewTokens: number;
}

/** Defaults of a few minutes: a CPU adapter decodes a few tokens per second, a GPU hundreds. */
export function benchSizeFor(info: GpuInfo): BenchSize {
  return isCpuAdapter(info) ? { count: 8, limit: 2, maxNewTokens: 96 } : { count: 200, limit: 25, maxNewTokens: 256 };
}

/** A decoding rate measured in this session: completion tokens per second with `batch` sequences together. */
export interface DecodeRate {
  tokensPerSec: number;
  batch: number;
  /** where it was measured, for the sentence */
  where: string;
}

/**
 * Upper bound of a run's time (ms): every prompt decodes up to maxNewTokens, `batch` at a time. A rate
 * measured at another batch size is scaled as if a step cost the same at any batch (decode steps are
 * bound by reading the weights, so that is near the truth for small batches).
 */
export function benchTimeMs(prompts: number, maxNewTokens: number, batch: number, rate: DecodeRate): number {
  const stepsPerSec = rate.tokensPerSec / rate.batch;
  const rounds = Math.ceil(prompts / batch);
  return (rounds * maxNewTokens * 1000) / stepsPerSec;
}

/** Time left in a running benchmark from its pace so far (ms); null before the first batch finished. */
export function benchTimeLeftMs(done: number, total: number, elapsedMs: number): number | null {
  return done > 0 ? (elapsedMs / done) * (total - done) : null;
}
