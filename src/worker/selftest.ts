// GPU self-test: the tiled and skinny matmul paths on ragged shapes, checked against the TypeScript
// reference. Proves in one second that the adapter compiles and runs our kernels correctly.
import type { GpuRuntime } from '../gpu/runtime.ts';
import { linear } from '../ops/matmul.ts';
import { linearRef } from '../reference/matmul.ts';
import { Rng } from '../util/random.ts';
import type { SelftestCase, SelftestReport } from './protocol.ts';

// [M, N, K]: a scalar, a skinny ragged one, and a tiled one with ragged edges on every side.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [67, 33, 129],
];

// f32 accumulation vs the f64 reference; a real GPU may reorder or fuse the sums, so leave it some room.
const TOLERANCE = 1e-4;

export async function runSelftest(rt: GpuRuntime, onCase: (c: SelftestCase) => void): Promise<SelftestReport> {
  const cases: SelftestCase[] = [];
  const t0 = performance.now();
  for (const [M, N, K] of SHAPES) {
    for (const bias of [false, true]) {
      const rng = new Rng(M * 1000 + N * 10 + K);
      const a = rng.uniformArray(M * K);
      const w = rng.uniformArray(N * K);
      const b = rng.uniformArray(N);
      const ta = rt.upload([M, K], a, 'f32', 'selftest.a');
      const tw = rt.upload([N, K], w, 'f32', 'selftest.w');
      const tb = rt.upload([N], b, 'f32', 'selftest.bias');
      const tc = rt.empty([M, N], 'f32', 'selftest.c');
      const start = performance.now();
      linear(rt, ta, tw, tc, M, bias ? tb : undefined);
      const got = await rt.read(tc);
      const ms = performance.now() - start;
      for (const t of [ta, tw, tb, tc]) t.release();
      const err = maxRelError(got, linearRef(a, w, M, N, K, bias ? b : undefined));
      const c: SelftestCase = {
        name: `${M}×${N}×${K}${bias ? ' + bias' : ''}`,
        M, N, K, bias,
        maxRelError: err,
        tolerance: TOLERANCE,
        pass: err <= TOLERANCE, // NaN fails
        ms,
      };
      cases.push(c);
      onCase(c);
    }
  }
  return { cases, pass: cases.every((c) => c.pass), ms: performance.now() - t0 };
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (Number.isNaN(e)) return NaN;
    worst = Math.max(worst, e);
  }
  return worst;
}
