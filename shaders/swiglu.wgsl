// SwiGLU on the fused gate|up projection: h[r, i] = silu(gu[r, i]) · gu[r, I + i].

struct Params { rows: u32, inter: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> gu: array<f32>;
@group(0) @binding(1) var<storage, read_write> h: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let r = wg.y;
  let i = id.x;
  if (r >= p.rows || i >= p.inter) { return; }
  let g = gu[r * 2u * p.inter + i];
  let u = gu[r * 2u * p.inter + p.inter + i];
  h[r * p.inter + i] = g / (1.0 + exp(-g)) * u;
}

// Backward: with s = sigmoid(g), dgate = dh · u · s · (1 + g · (1 − s)) and dup = dh · g · s.
@group(0) @binding(1) var<storage, read> dh: array<f32>;
@group(0) @binding(2) var<storage, read_write> dgu: array<f32>;
@group(0) @binding(3) var<uniform> pb: Params;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let r = wg.y;
  let i = id.x;
  if (r >= pb.rows || i >= pb.inter) { return; }
  let gi = r * 2u * pb.inter + i;
  let g = gu[gi];
  let u = gu[gi + pb.inter];
  let s = 1.0 / (1.0 + exp(-g));
  let d = dh[r * pb.inter + i];
  dgu[gi] = d * u * s * (1.0 + g * (1.0 - s));
  dgu[gi + pb.inter] = d * g * s;
}
