// A run's events as files: JSON Lines (what the CLI's events.jsonl holds, read back into a run the studio
// can show and overlay) and CSV (one row per step, a column per metric), for spreadsheets and plots elsewhere.
import type { TrainEvent } from '../train/events.ts';

const TYPES = new Set(['sample', 'step', 'sft-step', 'eval', 'bench', 'checkpoint', 'log', 'done']);

/** events.jsonl → events; a line that is not a run's event is reported with its number and left out. */
export function parseEventsJsonl(text: string): { events: TrainEvent[]; errors: string[] } {
  const events: TrainEvent[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      errors.push(`line ${i + 1}: not JSON`);
      return;
    }
    const type = (e as { type?: unknown })?.type;
    if (typeof e !== 'object' || e === null || typeof type !== 'string' || !TYPES.has(type)) {
      errors.push(`line ${i + 1}: not a training event (its "type" is ${JSON.stringify(type)})`);
      return;
    }
    if (type !== 'log' && type !== 'done' && type !== 'checkpoint' && !Number.isInteger((e as { step?: unknown }).step)) {
      errors.push(`line ${i + 1}: a ${type} event without a whole-number "step"`);
      return;
    }
    events.push(e as TrainEvent);
  });
  return { events, errors };
}

/** Events → JSON Lines, as the CLI writes events.jsonl. */
export function eventsJsonl(events: TrainEvent[]): string {
  return events.map((e) => JSON.stringify(e) + '\n').join('');
}

/**
 * One row per step: every number of its step event (GRPO's or SFT's), the held-out reward and the benchmark
 * accuracy (overall and per category) where they were measured; empty cells elsewhere.
 */
export function eventsCsv(events: TrainEvent[]): string {
  const rows = new Map<number, Map<string, number>>();
  const columns: string[] = [];
  const put = (step: number, column: string, v: number) => {
    if (!columns.includes(column)) columns.push(column);
    if (!rows.has(step)) rows.set(step, new Map());
    rows.get(step)!.set(column, v);
  };
  for (const e of events) {
    if (e.type === 'step' || e.type === 'sft-step') {
      for (const [k, v] of Object.entries(e)) if (k !== 'step' && typeof v === 'number') put(e.step, e.type === 'sft-step' ? `sft_${k}` : k, v);
    } else if (e.type === 'eval') put(e.step, 'heldoutReward', e.meanReward);
    else if (e.type === 'bench') {
      put(e.step, `${e.bench}_accuracy`, e.accuracy);
      for (const c of e.categories) put(e.step, `${e.bench}_${c.category}`, c.accuracy);
    }
  }
  const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));
  const lines = [['step', ...columns].join(',')];
  for (const step of [...rows.keys()].sort((a, b) => a - b)) lines.push([String(step), ...columns.map((c) => cell(rows.get(step)!.get(c)))].join(','));
  return lines.join('\n') + '\n';
}
