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
