// Workgroup-count helpers: 1-D problems larger than 65535 workgroups fold into a 2-D grid.
import type { GpuRuntime } from '../gpu/runtime.ts';

export function grid1d(rt: GpuRuntime, workgroups: number): [number, number] {
  const max = rt.device.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= max) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / max);
  return [Math.ceil(workgroups / y), y];
}

/** Packs u32 (and f32 where a field says so) uniform fields into a 16-byte-aligned block. */
export function params(u32s: number[], f32s: number[] = []): ArrayBuffer {
  const n = Math.ceil((u32s.length + f32s.length) / 4) * 4;
  const buf = new ArrayBuffer(Math.max(16, n * 4));
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u32s.forEach((v, i) => (u[i] = v >>> 0));
  f32s.forEach((v, i) => (f[u32s.length + i] = v));
  return buf;
}
