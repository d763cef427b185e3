// GPU self-test: the tiled and skinny matmul paths on ragged shapes, checked against the TypeScript
// reference. Proves in one second that the adapter compiles and runs our kernels correctly. And a
// cross-check of the whole model against onnxruntime-web on the same weights.
import type { GpuRuntime } from '../gpu/runtime.ts';
import { Generator } from '../model/generate.ts';
import { instantiateModel } from '../model/instantiate.ts';
import { embeddedSource, loadModel } from '../model/source.ts';
import { tokenizerForModel } from '../model/tokenizer.ts';
import { CROSS_CHECK_TOLERANCE, relDiff, sequenceLogits } from '../onnx/cross-check.ts';
import { sessionOfExport, type OrtBackend } from '../onnx/ort-model.ts';
import { linear } from '../ops/matmul.ts';
import { linearRef } from '../reference/matmul.ts';
import { toolName } from '../data/instance.ts';
import { PLAYGROUND_EXAMPLES } from '../toolcall/examples.ts';
import { playgroundPrompt } from '../toolcall/prompt.ts';
import { Rng } from '../util/random.ts';
import type { CrossCheckReport, SelftestCase, SelftestReport } from './protocol.ts';

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

// ---- cross-check with onnxruntime-web -----------------------------------------------------------------

/** Positions compared: ORT prefills the first CROSS_PREFILL, then decodes the rest one by one from its cache. */
const CROSS_TOKENS = 16;
const CROSS_PREFILL = 12;

/**
 * The embedded model on our engine (f32 matrices, as exported) and on onnxruntime-web (our ONNX export of the
 * same weights): full-vocabulary logits at every position of the Playground's first prompt, compared.
 */
export async function runCrossCheck(rt: GpuRuntime, backend: OrtBackend): Promise<CrossCheckReport> {
  const t0 = performance.now();
  const loaded = await loadModel(embeddedSource());
  const tokenizer = await tokenizerForModel(loaded);
  const example = PLAYGROUND_EXAMPLES[0];
  const ids = tokenizer.encode(playgroundPrompt(example.question, example.tools.map((t) => toolName(t) ?? '?'))).slice(0, CROSS_TOKENS);
  const lm = await sessionOfExport(loaded, backend);
  let theirs: Float32Array;
  try {
    theirs = await sequenceLogits(lm, ids, CROSS_PREFILL);
  } finally {
    await lm.release();
  }
  const model = instantiateModel(rt, loaded, { maxPositions: CROSS_TOKENS, matrixDtype: 'f32' });
  const generator = new Generator(model);
  let ours: Float32Array;
  try {
    ours = await generator.allLogits(ids);
  } finally {
    generator.release();
    model.release();
  }
  const maxRelDiff = relDiff(theirs, ours);
  return {
    backend,
    model: loaded.source,
    tokens: ids.length,
    vocab: loaded.config.vocabSize,
    maxRelDiff,
    tolerance: CROSS_CHECK_TOLERANCE,
    pass: maxRelDiff <= CROSS_CHECK_TOLERANCE, // NaN fails
    ms: performance.now() - t0,
  };
}
