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

// Replicates buf[src_off .. src_off + n) into `copies` places buf[dst_off + c·dst_stride ..] of the same
// buffer (bitwise; WebGPU forbids a buffer copy onto itself). Used to fork a KV-cache slot into G slots.
struct CopyParams { n: u32, src_off: u32, dst_off: u32, dst_stride: u32 }

@group(0) @binding(0) var<storage, read_write> buf: array<u32>;
@group(0) @binding(1) var<uniform> cp: CopyParams;

@compute @workgroup_size(256)
fn replicate(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let i = id.x;
  if (i >= cp.n) { return; }
  buf[cp.dst_off + wg.y * cp.dst_stride + i] = buf[cp.src_off + i];
}
