// Elementwise ops over flat f32 arrays: out = a + b, and in-place accumulate a += b.

struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn flat(id: vec3u, nwg: vec3u) -> u32 { return id.x + id.y * nwg.x * 256u; }

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(id, nwg);
  if (i < p.n) { out[i] = a[i] + b[i]; }
}
