// RMSNorm over rows: y = x / sqrt(mean(x²) + eps) · w, in f32. Also writes 1/rms per row for the backward.

struct Params { rows: u32, dim: u32, eps: f32, _p: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<WT>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
           @builtin(num_workgroups) nwg: vec3u) {
  let r = wg.x + wg.y * nwg.x;
  if (r >= p.rows) { return; } // uniform per workgroup
  let base = r * p.dim;
  var s = 0.0;
  for (var i = t; i < p.dim; i += 256u) { let v = x[base + i]; s += v * v; }
  sums[t] = s;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (t < stride) { sums[t] += sums[t + stride]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(sums[0] / f32(p.dim) + p.eps);
  if (t == 0u) { rstd[r] = inv; }
  for (var i = t; i < p.dim; i += 256u) { y[base + i] = x[base + i] * inv * f32(w[i]); }
}
