// Embedding gather: out[r, :] = table[ids[r], :]. WT is the table's element type (f32 or f16).

struct Params { rows: u32, dim: u32, vocab: u32, buckets: u32 } // buckets: backward only

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<WT>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let r = wg.y;
  let d = id.x;
  if (r >= p.rows || d >= p.dim) { return; }
  let tok = min(ids[r], p.vocab - 1u); // out-of-range ids are rejected on the host; clamp keeps reads in bounds
  out[r * p.dim + d] = f32(table[tok * p.dim + d]);
}

// Backward: dtable[ids[r], :] += dout[r, :]. No float atomics in WGSL, so each thread owns one column of
// the tokens of one bucket (id % buckets == wg.y) and walks the rows in order: rows sharing a token land
// in the same thread, which makes it race-free and deterministic. Buckets only add parallelism.
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dtable: array<f32>;

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let d = id.x;
  if (d >= p.dim) { return; }
  for (var r = 0u; r < p.rows; r++) {
    let tok = ids[r];
    if (tok < p.vocab && tok % p.buckets == wg.y) { dtable[tok * p.dim + d] += dout[r * p.dim + d]; }
  }
}
