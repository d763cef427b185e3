// `npm run bench -- --vs ort`: our engine beside onnxruntime-web on the same weights, the same WebGPU adapter
// and the same process. Cold start first (the first call of each backend, pipeline compilation included),
// then one warm-up pass, then rounds in which every case runs once on every backend in turn (so a busy machine
// slows all alike); each case reports its fastest round. ORT runs our own export of the same weights, with the
// `num_logits_to_keep` input so that a prefill reads back one row of logits, as ours does.
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { LoadedModel } from '../model/source.ts';
import { instantiateModel } from '../model/instantiate.ts';
import { Generator } from '../model/generate.ts';
import { exportOnnxGraph } from '../onnx/export.ts';
import { OrtCausalLm, type OrtBackend } from '../onnx/ort-model.ts';
import { qwen25HalfBConfig } from './random-model.ts';
import { Rng } from '../util/random.ts';

/** A ~25M-parameter Qwen2 shape (random weights): between the tiny default and Qwen2.5-0.5B. */
export const QWEN2_25M_CONFIG = qwen25HalfBConfig({
  hidden_size: 384, intermediate_size: 1152, num_hidden_layers: 8, num_attention_heads: 6, num_key_value_heads: 2, vocab_size: 32000,
});

export const VS_ORT_CASES = ['prefill 32', 'prefill 256', 'decode B=1', 'decode B=8', 'forward 32 (all logits)'] as const;
export type VsOrtCase = (typeof VS_ORT_CASES)[number];
export type Backend = 'ours' | `ort-${OrtBackend}`;

export interface VsOrtOptions {
  eps: OrtBackend[];
  rounds: number;
  /** decode steps timed per decode case */
  decodeSteps: number;
  log: (msg: string) => void;
}

export interface VsOrtResult {
  model: string;
  backends: Backend[];
  /** first call incl. compilation (ORT: session creation + first prefill), ms */
  coldMs: Partial<Record<Backend, number>>;
  /** tokens per second, fastest round, per case and backend */
  tokensPerSec: Record<VsOrtCase, Partial<Record<Backend, number>>>;
  /** backends that could not start, with why */
  failed: Partial<Record<Backend, string>>;
}

interface Runner {
  /** ms for one run of the case, and the tokens it processed */
  run(c: VsOrtCase): Promise<{ ms: number; tokens: number }>;
  release(): Promise<void> | void;
}

function prompts(vocab: number, count: number, length: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Array.from({ length }, () => rng.int(vocab)));
}

const GREEDY = { temperature: 0, topK: 0, topP: 1, seed: 0 };
const DECODE_PROMPT = 8;

function oursRunner(rt: GpuRuntime, loaded: LoadedModel, steps: number): Runner {
  const V = loaded.config.vocabSize;
  const model = instantiateModel(rt, loaded, { maxPositions: 320 });
  const gen = new Generator(model);
  return {
    async run(c) {
      if (c === 'prefill 32' || c === 'prefill 256') {
        const T = c === 'prefill 32' ? 32 : 256;
        const r = await gen.generateBatch(prompts(V, 1, T, T), { n: 1, maxNewTokens: 1, eosIds: [], sampling: GREEDY });
        return { ms: r.prefillMs, tokens: T };
      }
      if (c === 'forward 32 (all logits)') {
        const t0 = performance.now();
        await gen.allLogits(prompts(V, 1, 32, 5)[0]);
        return { ms: performance.now() - t0, tokens: 32 };
      }
      const B = c === 'decode B=1' ? 1 : 8;
      const stamps: number[] = [];
      await gen.generateBatch(prompts(V, B, DECODE_PROMPT, B), {
        n: 1, maxNewTokens: steps + 1, eosIds: [], sampling: GREEDY, onStep: () => stamps.push(performance.now()),
      });
      return { ms: stamps[steps] - stamps[0], tokens: B * steps };
    },
    release() {
      gen.release();
      model.release();
    },
  };
}

function ortRunner(lm: OrtCausalLm, vocab: number, steps: number): Runner {
  const prefill = async (rows: number[][], keep: number) => {
    const out = await lm.forward(lm.emptyState(rows.length), rows.flat(), rows.flat().map(() => 1), keep);
    return out;
  };
  return {
    async run(c) {
      if (c === 'prefill 32' || c === 'prefill 256' || c === 'forward 32 (all logits)') {
        const T = c === 'prefill 256' ? 256 : 32;
        const t0 = performance.now();
        const out = await prefill(prompts(vocab, 1, T, T), c === 'forward 32 (all logits)' ? 0 : 1);
        const ms = performance.now() - t0;
        lm.releaseState(out.state);
        return { ms, tokens: T };
      }
      const B = c === 'decode B=1' ? 1 : 8;
      let out = await prefill(prompts(vocab, B, DECODE_PROMPT, B), 1);
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        const next = Array.from({ length: B }, (_, b) => {
          const row = out.logits.subarray(b * vocab, (b + 1) * vocab);
          return row.indexOf(Math.max(...row));
        });
        out = await lm.forward(out.state, next, next.map(() => 1), 1);
      }
      const ms = performance.now() - t0;
      lm.releaseState(out.state);
      return { ms, tokens: B * steps };
    },
    release: () => lm.release(),
  };
}

export async function benchVsOrt(rt: GpuRuntime, loaded: LoadedModel, opts: VsOrtOptions): Promise<VsOrtResult> {
  const V = loaded.config.vocabSize;
  const runners = new Map<Backend, Runner>();
  const result: VsOrtResult = {
    model: loaded.source,
    backends: [],
    coldMs: {},
    tokensPerSec: Object.fromEntries(VS_ORT_CASES.map((c) => [c, {}])) as VsOrtResult['tokensPerSec'],
    failed: {},
  };
  const { onnx } = exportOnnxGraph(loaded, { dtype: 'f32', logitsToKeep: true });

  // Cold start: the first prefill of 32 tokens, compilation included.
  opts.log(`  cold start: ours`);
  let t0 = performance.now();
  const ours = oursRunner(rt, loaded, opts.decodeSteps);
  await ours.run('prefill 32');
  result.coldMs.ours = performance.now() - t0;
  runners.set('ours', ours);
  for (const ep of opts.eps) {
    const name: Backend = `ort-${ep}`;
    opts.log(`  cold start: ${name}`);
    t0 = performance.now();
    try {
      const lm = await OrtCausalLm.create(onnx, { backend: ep, where: `${loaded.source} (ONNX export)` });
      const runner = ortRunner(lm, V, opts.decodeSteps);
      await runner.run('prefill 32');
      result.coldMs[name] = performance.now() - t0;
      runners.set(name, runner);
    } catch (e) {
      result.failed[name] = (e as Error).message;
      opts.log(`    ${name} failed: ${(e as Error).message}`);
    }
  }
  result.backends = [...runners.keys()];

  // Warm-up (every pipeline of every case), then interleaved rounds.
  for (const round of [-1, ...Array.from({ length: opts.rounds }, (_, i) => i)]) {
    for (const c of VS_ORT_CASES) {
      for (const [name, runner] of runners) {
        const { ms, tokens } = await runner.run(c);
        const tps = (tokens / ms) * 1000;
        opts.log(`  ${round < 0 ? 'warm-up' : `round ${round + 1}`} ${c.padEnd(24)} ${name.padEnd(11)} ${tps.toFixed(2)} tok/s`);
        if (round >= 0) result.tokensPerSec[c][name] = Math.max(result.tokensPerSec[c][name] ?? 0, tps);
      }
    }
  }
  for (const runner of runners.values()) await runner.release();
  await rt.sync();
  return result;
}

/** Markdown table: tokens/s per backend and the ratio ours / each ORT backend (above 1: ours is faster). */
export function vsOrtTable(r: VsOrtResult): string {
  const orts = r.backends.filter((b) => b !== 'ours');
  const head = ['case', ...r.backends.map((b) => `${b} tok/s`), ...orts.map((b) => `ours/${b}`)];
  const fmt = (x: number | undefined) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toPrecision(3));
  const rows = VS_ORT_CASES.map((c) => {
    const t = r.tokensPerSec[c];
    return [c, ...r.backends.map((b) => fmt(t[b])), ...orts.map((b) => (t.ours && t[b] ? (t.ours / t[b]!).toFixed(2) : '—'))];
  });
  const cold = ['cold start (s)', ...r.backends.map((b) => (r.coldMs[b] === undefined ? '—' : (r.coldMs[b]! / 1000).toFixed(1))),
    ...orts.map((b) => (r.coldMs.ours && r.coldMs[b] ? (r.coldMs[b]! / r.coldMs.ours).toFixed(2) : '—'))];
  const lines = [head, head.map(() => '---'), ...rows, cold].map((cells) => `| ${cells.join(' | ')} |`);
  const failed = Object.entries(r.failed).map(([b, why]) => `\n${b} did not start: ${why}`).join('');
  return `${r.model}\n${lines.join('\n')}${failed}\n(cold-start ratio: ORT time / ours, above 1: ours starts faster)`;
}
