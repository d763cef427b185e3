// Embedding gather: out[r, :] = table[ids[r], :]. WT is the table's element type (f32 or f16).

struct Params { rows: u32, dim: u32, vocab: u32, _p: u32 }

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<WT>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let r = wg.y;
  let d = id.x;
  if (r >= p.rows || d >= p.dim) { return; }
  let tok = min(ids[r], p.vocab - 1u); // out-of-range ids are rejected on the host; clamp keeps reads in bounds
  out[r * p.dim + d] = f32(table[tok * p.dim + d]);
}
