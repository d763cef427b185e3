// The runtime's own guarantees: compile errors name the .wgsl file and line, a lost device is reported
// and a new runtime works, timestamp timing per kernel, buffer recycling and accounting.
import { describe, expect, it } from 'vitest';
import { createNodeRuntime, nodeShaderSource } from '../../src/gpu/node.ts';
import { BufferPool } from '../../src/gpu/runtime.ts';
import { GpuDeviceLostError } from '../../src/gpu/device.ts';
import { linear } from '../../src/ops/matmul.ts';

const BROKEN = `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  out[id.x] = undefined_thing;
}
`;

// A file (ending in a newline) that calls helpers of two includes (the first without one), behind a header.
const CALLER = (bad: string) => `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  out[id.x] = first(id.x) + second(id.x)${bad};
}
`;
const FIRST = 'fn first(i: u32) -> WT { return WT(i); }';
const SECOND = (bad: string) => `// the second include
fn second(i: u32) -> f32 {
  return f32(i)${bad};
}
`;

describe('GPU runtime', () => {
  it('reports a WGSL compile error with the shader file name and line', async () => {
    const rt = await createNodeRuntime({}, (name) => (name === 'broken' ? BROKEN : nodeShaderSource(name)));
    const out = rt.empty([64]);
    rt.dispatch({ kernel: { shader: 'broken', entry: 'main' }, buffers: [out], workgroups: [1] });
    await expect(rt.read(out)).rejects.toThrow(/shaders\/broken\.wgsl:6:\d+: error: .*undefined_thing/);
    rt.destroy();
  });

  it('maps compile errors to the lines of the file and of its includes, behind a header', async () => {
    for (const [caller, second, where] of [
      [CALLER(' + in_file'), SECOND(''), /shaders\/caller\.wgsl:6:\d+: error: .*in_file/],
      [CALLER(''), SECOND(' * in_include'), /shaders\/second\.wgsl:3:\d+: error: .*in_include/],
    ] as const) {
      const files: Record<string, string> = { caller, first: FIRST, second };
      const rt = await createNodeRuntime({}, (name) => files[name]);
      const out = rt.empty([64]);
      const kernel = { shader: 'caller', entry: 'main', includes: ['first', 'second'], aliases: { WT: 'f32' } };
      rt.dispatch({ kernel, buffers: [out], workgroups: [1] });
      await expect(rt.read(out)).rejects.toThrow(where);
      rt.destroy();
    }
  });

  it('surfaces a lost device as a clear error, and a new runtime works', async () => {
    const rt = await createNodeRuntime();
    const lost = new Promise<GpuDeviceLostError>((resolve) => rt.onLost(resolve));
    rt.device.destroy();
    const err = await lost;
    expect(err.message).toMatch(/GPU device lost .*Re-create the runtime/);
    expect(rt.lost).toBe(true);
    expect(() => rt.empty([4])).toThrow(GpuDeviceLostError);
    const fresh = await createNodeRuntime();
    const t = fresh.upload([3], [1, 2, 3]);
    expect(Array.from(await fresh.read(t))).toEqual([1, 2, 3]);
    fresh.destroy();
  });

  it('times kernels with timestamp queries when the adapter has them', async () => {
    const rt = await createNodeRuntime();
    if (!rt.setProfiling(true)) return; // no timestamp-query on this adapter
    const x = rt.upload([4, 8], new Float32Array(32).fill(1));
    const w = rt.upload([5, 8], new Float32Array(40).fill(1));
    const y = rt.empty([4, 5]);
    linear(rt, x, w, y, 4);
    linear(rt, x, w, y, 4);
    const timings = await rt.kernelTimings();
    const skinny = rt.info.subgroups ? 'matmul.skinny_vec4_subgroups' : 'matmul.skinny_vec4';
    expect(timings.get(skinny)?.calls).toBe(2);
    expect(timings.get(skinny)!.ms).toBeGreaterThanOrEqual(0);
    rt.destroy();
  });

  it('recycles released buffers once nothing recorded can read them, and accounts for the bytes it holds', async () => {
    const rt = await createNodeRuntime();
    const before = rt.bytesHeld;
    const a = rt.empty([1000]);
    const buffer = a.buffer;
    expect(rt.bytesHeld).toBeGreaterThanOrEqual(before + 4000);
    rt.copy(a, rt.empty([1000])); // recorded, not submitted: it reads a
    a.release();
    expect(rt.empty([1000]).buffer).not.toBe(buffer); // a recorded copy still reads it
    rt.submit();
    const b = rt.empty([1000]);
    expect(b.buffer).toBe(buffer);
    b.release();
    expect(rt.empty([1000]).buffer).toBe(buffer); // nothing recorded: reusable at once
    // Exact-size buffers (weights) skip the size classes and go back to the device when released.
    const held = rt.bytesHeld;
    const w = rt.empty([1001], 'f32', 'weight', true);
    expect(w.buffer.size).toBe(4004);
    expect(rt.bytesHeld).toBe(held + 4004);
    w.release();
    rt.submit();
    expect(rt.bytesHeld).toBe(held);
    expect(BufferPool.sizeClass(5000)).toBeGreaterThanOrEqual(5000);
    expect(BufferPool.sizeClass(5000) / 5000).toBeLessThan(1.25);
    rt.destroy();
  });
});
