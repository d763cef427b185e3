// Browser entry to the shaders: Vite inlines every shaders/*.wgsl as a string at build time, so the page
// and the Worker compile the very files Node reads from disk (src/gpu/node.ts).
import type { ShaderSource } from './kernels.ts';

const files = import.meta.glob<string>('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });

const byName = new Map<string, string>();
for (const [path, text] of Object.entries(files)) byName.set(path.slice(path.lastIndexOf('/') + 1, -'.wgsl'.length), text);

export const bundledShaderSource: ShaderSource = (name) => {
  const text = byName.get(name);
  if (text === undefined) throw new Error(`no shader shaders/${name}.wgsl in the bundle (have: ${[...byName.keys()].join(', ')})`);
  return text;
};
