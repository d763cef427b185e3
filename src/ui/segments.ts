// Display-only split of a completion into plain text, <think>…</think> and <tool_call>…</tool_call>, so a
// card can style each part. Scoring reads completions with src/toolcall/decode.ts, never with this.

export interface Segment {
  kind: 'text' | 'think' | 'tool_call';
  /** the inside, tags removed */
  text: string;
  /** false for a think or tool_call part whose closing tag has not come (yet) */
  closed: boolean;
}

const TAG = /<(think|tool_call)>|<\/(think|tool_call)>/g;
// Chat-format markers such as <|im_end|>: the raw view shows them, the formatted view does not.
const CHAT_MARKER = /<\|[a-z_]+\|>/g;

export function splitCompletion(raw: string): Segment[] {
  const text = raw.replace(CHAT_MARKER, '');
  const segments: Segment[] = [];
  let kind: Segment['kind'] = 'text';
  let at = 0;
  const flush = (end: number, closed: boolean) => {
    const inside = text.slice(at, end);
    if (kind !== 'text' || inside.trim()) segments.push({ kind, text: inside, closed });
  };
  for (const m of text.matchAll(TAG)) {
    const [tag, open, close] = m;
    // Tags inside another part (a <tool_call> within <think>, a stray closing tag) stay text of that part.
    if (open && kind === 'text') {
      flush(m.index, true);
      kind = open as Segment['kind'];
    } else if (close && close === kind) {
      flush(m.index, true);
      kind = 'text';
    } else continue;
    at = m.index + tag.length;
  }
  flush(text.length, kind === 'text');
  return segments;
}
