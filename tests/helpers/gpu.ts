// One GPU runtime per test process, on Dawn (SwiftShader when the machine has no GPU).
import { createNodeRuntime } from '../../src/gpu/node.ts';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';

let rt: Promise<GpuRuntime> | null = null;

export function gpu(): Promise<GpuRuntime> {
  rt ??= createNodeRuntime();
  return rt;
}

/** Largest |a−b| / max(1, |b|) over the arrays. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}
