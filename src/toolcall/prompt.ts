// The playground's prompt: a question and tools picked by name from the example set, through the thinking
// template. Pure (no GPU), so the page previews exactly the text the Worker tokenises.
import { toolName } from '../data/instance.ts';
import { PLAYGROUND_EXAMPLES } from './examples.ts';
import type { JsonObject } from './json.ts';
import { renderPrompt } from './template.ts';

/** Every tool of the examples, once, in order of first appearance. */
export const EXAMPLE_TOOLS: JsonObject[] = [
  ...new Map(PLAYGROUND_EXAMPLES.flatMap((e) => e.tools).map((t) => [toolName(t), t])).values(),
];

export function playgroundPrompt(question: string, tools: string[]): string {
  const specs = tools.map((name) => {
    const spec = EXAMPLE_TOOLS.find((t) => toolName(t) === name);
    if (!spec) throw new Error(`unknown tool "${name}" (not in the example set)`);
    return spec;
  });
  return renderPrompt({ tools: specs, turns: [{ role: 'user', content: question }] });
}
