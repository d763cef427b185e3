// Rotary position embedding, rotate-half convention, in place on rows of [heads, head_dim] vectors.
// cos/sin come from a host-computed table [max_pos, head_dim / 2] (f32 like Hugging Face's), indexed by
// each row's own position, so batched rows of different sequences rotate correctly.
// INVERSE = true applies the transpose rotation (the backward of the forward rotation).

struct Params { rows: u32, heads: u32, head_dim: u32, row_stride: u32, col_off: u32, _p0: u32, _p1: u32, _p2: u32 }

override INVERSE: bool = false;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> positions: array<u32>;
@group(0) @binding(2) var<storage, read> cos_table: array<f32>;
@group(0) @binding(3) var<storage, read> sin_table: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(64)
fn rotate(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let half = p.head_dim / 2u;
  let r = wg.y;
  let i = id.x; // over heads * half
  if (r >= p.rows || i >= p.heads * half) { return; }
  let h = i / half;
  let j = i % half;
  let base = r * p.row_stride + p.col_off + h * p.head_dim;
  let c = cos_table[positions[r] * half + j];
  var s = sin_table[positions[r] * half + j];
  if (INVERSE) { s = -s; }
  let x1 = x[base + j];
  let x2 = x[base + j + half];
  x[base + j] = x1 * c - x2 * s;
  x[base + j + half] = x2 * c + x1 * s;
}
