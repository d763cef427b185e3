// Optimizer: global gradient norm (deterministic two-stage reduction that stays on the GPU) and AdamW
// (PyTorch semantics: decoupled weight decay, bias correction) with clipping by that norm applied inside
// the step. A non-finite norm makes every AdamW dispatch a no-op, so a bad step leaves weights and moments
// untouched; the host learns about it by reading the norm afterwards.
// Includes workgroup_reduce.wgsl.

// ---- stage 1: partials[off + wg] = Σ x² over a fixed grid-stride share of one tensor ---------------------
struct SumsqParams { n: u32, off: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> sp: SumsqParams;

@compute @workgroup_size(256)
fn sumsq(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  for (var i = wg.x * WG + t; i < sp.n; i += nwg.x * WG) { let v = x[i]; s = fma(v, v, s); }
  let total = reduce_sum(t, s);
  if (t == 0u) { partials[sp.off + wg.x] = total; }
}

// ---- stage 2: norm[0] = sqrt(Σ partials), one workgroup ------------------------------------------------
struct NormParams { count: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(2) var<storage, read_write> norm_out: array<f32>;
@group(0) @binding(3) var<uniform> np: NormParams;

@compute @workgroup_size(256)
fn norm(@builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  for (var i = t; i < np.count; i += WG) { s += partials[i]; }
  let total = reduce_sum(t, s);
  if (t == 0u) { norm_out[0] = sqrt(total); }
}

// ---- AdamW over one flat tensor -------------------------------------------------------------------------
struct AdamParams {
  n: u32, _p0: u32, _p1: u32, _p2: u32,
  beta1: f32, beta2: f32,
  one_minus_beta1: f32, one_minus_beta2: f32, // from the host in f64: 1 − 0.999 in f32 is off by 1e-5
  eps: f32, max_norm: f32, // max_norm ≤ 0: no clipping
  step_size: f32,    // lr / (1 − beta1^t)
  inv_sqrt_bc2: f32, // 1 / sqrt(1 − beta2^t)
  decay: f32,        // 1 − lr · weight_decay
  _p3: f32, _p4: f32, _p5: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m1: array<f32>;
@group(0) @binding(3) var<storage, read_write> m2: array<f32>;
@group(0) @binding(4) var<storage, read> gnorm: array<f32>;
@group(0) @binding(5) var<uniform> ap: AdamParams;

// NaN and ±Inf are exactly the floats with an all-ones exponent (no isnan in WGSL, and x != x may be folded).
fn is_finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }

@compute @workgroup_size(256)
fn adamw(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = id.x + id.y * nwg.x * WG;
  let gn = gnorm[0];
  if (i >= ap.n || !is_finite(gn)) { return; }
  var scale = 1.0;
  if (ap.max_norm > 0.0) { scale = min(1.0, ap.max_norm / (gn + 1e-6)); } // torch clip_grad_norm_
  let g = grad[i] * scale;
  let m = ap.beta1 * m1[i] + ap.one_minus_beta1 * g;
  let v = ap.beta2 * m2[i] + ap.one_minus_beta2 * g * g;
  m1[i] = m;
  m2[i] = v;
  param[i] = param[i] * ap.decay - ap.step_size * m / (sqrt(v) * ap.inv_sqrt_bc2 + ap.eps);
}
