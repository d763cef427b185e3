// Plain-text tables for the benchmark's results.
import type { ColdStart, InferenceResult } from './inference.ts';
import type { LoraStepResult, ToolcallGrpoResult } from './training.ts';
import type { MemoryTarget } from './memory-targets.ts';

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** fixed digits, or 3 significant digits below 1 (SwiftShader's big-model rates are fractions of a token/s) */
const f = (x: number, digits = 2) => (!Number.isFinite(x) ? '–' : Math.abs(x) < 1 && x !== 0 ? x.toPrecision(3) : x.toFixed(digits));
const s = (ms: number) => f(ms / 1000, 2);
export const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
export const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

export function formatParams(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(0)}K`;
}

export function inferenceTables(results: InferenceResult[], cold: ColdStart | null = null): string {
  const out: string[] = [];
  if (cold) {
    out.push(
      `cold start, ${cold.model}: ${s(cold.totalMs)} s from upload to first token (weights ${s(cold.uploadMs)} s, ` +
        `${cold.pipelines} pipelines compiled together ${s(cold.pipelinesMs)} s, first token ${s(cold.firstTokenMs)} s)`,
      '',
    );
  }
  out.push(
    table(
      ['model', 'params', 'weights', 'B', 'prompt', 'prefill tok/s', 'prefill s', 'decode tok/s', 's/step', 's/step by round'],
      results.flatMap((r) =>
        r.batches.map((b) => [
          r.model, formatParams(r.parameters), r.weightDtype, b.batch, b.promptTokens, f(b.prefillTokensPerSec), s(b.prefillMs),
          f(b.decodeTokensPerSec), s(b.decodeStepMs), b.roundsStepMs.map((x) => s(x)).join(' / '),
        ]),
      ),
    ),
  );
  for (const r of results) {
    if (r.decodeRatio !== null) {
      out.push(`${r.model}: decode step B=${r.ratioBatches![0]} / B=${r.ratioBatches![1]} = ${r.decodeRatio.toFixed(2)}×`);
    }
  }
  for (const r of results) {
    for (const p of r.profiles) {
      out.push('');
      out.push(`${r.model}, one decode step at B=${p.batch}: GPU ${s(p.gpuMs)} s by timestamps (wall ${s(p.wallMs)} s, profiled)`);
      out.push(table(['kernel', 'calls', 'ms', 'share'], p.top.map((k) => [k.kernel, k.calls, f(k.ms, 1), `${(100 * k.share).toFixed(1)}%`])));
    }
  }
  return out.join('\n');
}

export function trainingTables(grpo: ToolcallGrpoResult[], lora: LoraStepResult[]): string {
  const out: string[] = [];
  if (grpo.length) {
    out.push(
      table(
        ['GRPO (tool-calling task)', 'mode', 'P×G', 'new', 'mb', 'prompt', 'rollout s', 'scoring ms', 'update s', 'step tok/s', 'update tok/s', 'held'],
        grpo.map((g) => [
          g.model, g.mode + (g.loraRank ? ` r${g.loraRank}` : ''), `${g.promptsPerStep}×${g.groupSize}`, g.maxNewTokens, g.microBatch,
          f(g.meanPromptTokens, 0), s(g.mean.rolloutMs), f(g.mean.scoringMs, 1), s(g.mean.updateMs), f(g.mean.stepTokensPerSec),
          f(g.mean.updateTokensPerSec), mib(g.bytesHeld),
        ]),
      ),
    );
    out.push('step tok/s: completion tokens per second of the whole step (the trainer\'s figure); update tok/s: prompt+completion tokens trained per second of the update.');
  }
  if (lora.length) {
    out.push('');
    out.push(
      table(
        ['LoRA gradient step', 'base', 'rank', 'rows', 'recompute', 'fwd+bwd s', 'AdamW s', 'tok/s', 'held (measured)', 'predicted', 'error'],
        lora.map((l) => [
          l.model, l.weightDtype, l.rank, l.rows, l.recompute ? 'yes' : 'no', s(l.gradientMs), s(l.optimizerMs), f(l.tokensPerSec, 3),
          mib(l.bytesHeld), mib(l.predictedBytes), `${f((100 * (l.predictedBytes - l.bytesHeld)) / l.bytesHeld, 2)}%`,
        ]),
      ),
    );
  }
  return out.join('\n');
}

export function memoryTable(targets: MemoryTarget[]): string {
  return table(
    ['GRPO step, Qwen2.5-0.5B shape, LoRA', 'base', 'recompute', 'predicted held', 'peak live', 'target', 'verdict'],
    targets.map((t) => [
      t.label, t.baseDtype, t.recompute ? 'yes' : 'no', gib(t.report.heldBytes), gib(t.report.peakLiveBytes), gib(t.targetBytes),
      t.report.heldBytes <= t.targetBytes ? 'within' : `over by ${gib(t.report.heldBytes - t.targetBytes)}`,
    ]),
  );
}
