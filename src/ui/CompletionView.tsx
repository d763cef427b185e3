// A completion's text with its <think> and <tool_call> parts shown apart (or raw), and a row of ✓/✗ checks.
// Shared by the Playground's cards, the Training tab's sample cards and the Benchmarks tab's entries.
import { useMemo } from 'react';
import { splitCompletion } from './segments.ts';

export function CompletionBody({ text, raw, empty = '(empty)' }: { text: string; raw: boolean; empty?: string }) {
  const segments = useMemo(() => splitCompletion(text), [text]);
  if (raw) return <pre className="raw" data-testid="completion-raw">{text}</pre>;
  return (
    <div className="segments">
      {segments.length === 0 && <p className="muted">{empty}</p>}
      {segments.map((seg, i) => (
        <div key={i} className={`segment ${seg.kind}${seg.closed ? '' : ' open'}`} data-testid={`segment-${seg.kind}`}>
          {seg.kind !== 'text' && <span className="segment-tag">{seg.kind}</span>}
          <div className="segment-body">{seg.text.trim()}</div>
        </div>
      ))}
    </div>
  );
}

/** [label, passed] pairs as small ✓/✗ marks. */
export function Checks({ checks }: { checks: [string, boolean][] }) {
  return (
    <span className="checks">
      {checks.map(([name, ok]) => (
        <span key={name} className={ok ? 'check ok' : 'check'} title={`${name}: ${ok ? 'yes' : 'no'}`}>
          {ok ? '✓' : '✗'} {name}
        </span>
      ))}
    </span>
  );
}

export function RawToggle({ raw, onToggle }: { raw: boolean; onToggle(): void }) {
  return (
    <button className="link" data-testid="raw-toggle" aria-pressed={raw} onClick={onToggle}>
      {raw ? 'formatted' : 'raw'}
    </button>
  );
}
