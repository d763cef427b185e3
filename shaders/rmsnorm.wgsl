// RMSNorm over rows: y = x / sqrt(mean(x²) + eps) · w, in f32. Also writes 1/rms per row for the backward.
// Includes workgroup_reduce.wgsl.

struct Params { rows: u32, dim: u32, eps: f32, _p: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<WT>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
           @builtin(num_workgroups) nwg: vec3u) {
  let r = wg.x + wg.y * nwg.x;
  if (r >= p.rows) { return; } // uniform per workgroup
  let base = r * p.dim;
  var s = 0.0;
  for (var i = t; i < p.dim; i += WG) { let v = x[base + i]; s += v * v; }
  let inv = inverseSqrt(reduce_sum(t, s) / f32(p.dim) + p.eps);
  if (t == 0u) { rstd[r] = inv; }
  for (var i = t; i < p.dim; i += WG) { y[base + i] = x[base + i] * inv * f32(w[i]); }
}

// ---- backward ------------------------------------------------------------------------------------------
// With r = rstd: dx = r·(w ⊙ dy) − r³/dim · x · Σ_j w_j dy_j x_j, and dw += Σ_rows dy ⊙ x · r.
// Binding layout shared by both entries: x, w, rstd, dy, dx, dw, params (unused ones are skipped).

override ACCUMULATE: bool = false; // dx += (the residual stream's gradient) instead of dx =

@group(0) @binding(2) var<storage, read> rstd_in: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> dw: array<f32>;
@group(0) @binding(6) var<uniform> pb: Params;

// One workgroup per row.
@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
            @builtin(num_workgroups) nwg: vec3u) {
  let r = wg.x + wg.y * nwg.x;
  if (r >= pb.rows) { return; } // uniform per workgroup
  let base = r * pb.dim;
  var s = 0.0;
  for (var i = t; i < pb.dim; i += WG) { s += f32(w[i]) * dy[base + i] * x[base + i]; }
  let inv = rstd_in[r];
  let c = inv * inv * inv * reduce_sum(t, s) / f32(pb.dim);
  for (var i = t; i < pb.dim; i += WG) {
    var g = inv * f32(w[i]) * dy[base + i] - c * x[base + i];
    if (ACCUMULATE) { g += dx[base + i]; }
    dx[base + i] = g;
  }
}

// dw: 32 columns per workgroup, 8 lanes splitting the rows, lanes summed in a fixed order (deterministic).
const DW_COLS = 32u;
const DW_LANES = 8u;

@compute @workgroup_size(256)
fn backward_weight(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let col = wg.x * DW_COLS + t % DW_COLS;
  let lane = t / DW_COLS;
  var s = 0.0;
  if (col < pb.dim) {
    for (var r = lane; r < pb.rows; r += DW_LANES) { s += dy[r * pb.dim + col] * x[r * pb.dim + col] * rstd_in[r]; }
  }
  red[t] = s;
  workgroupBarrier();
  if (lane == 0u && col < pb.dim) {
    var total = 0.0;
    for (var l = 0u; l < DW_LANES; l++) { total += red[l * DW_COLS + t]; }
    dw[col] += total;
  }
}
