// Token log-probabilities under softmax(logits / T) for a chunk of rows, and their backward, over a
// [count, vocab] logits scratch that the host recomputes per chunk (no whole-sequence logits tensor).
// One workgroup per row; row c of the chunk is row row_off + c of targets / logprobs / entropy / dlogp.
// Includes workgroup_reduce.wgsl.

struct Params { count: u32, vocab: u32, row_off: u32, _p: u32, inv_temp: f32, _p1: u32, _p2: u32, _p3: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read_write> logprobs: array<f32>;
@group(0) @binding(3) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// logp = z_t − log Σ e^z and entropy = log Σ e^z − Σ softmax(z)·z, with z = (logits − max) / T.
@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let c = wg.x;
  let base = c * p.vocab;
  var lmax = -3.0e38;
  for (var i = t; i < p.vocab; i += WG) { lmax = max(lmax, logits[base + i]); }
  let m = reduce_max(t, lmax);
  var se = 0.0;
  var sez = 0.0;
  for (var i = t; i < p.vocab; i += WG) {
    let z = (logits[base + i] - m) * p.inv_temp;
    let e = exp(z);
    se += e;
    sez += e * z;
  }
  let sum = reduce_sum(t, se);
  let sum_ez = reduce_sum(t, sez);
  if (t == 0u) {
    let row = p.row_off + c;
    let tok = min(targets[row], p.vocab - 1u);
    let log_z = log(sum);
    logprobs[row] = (logits[base + tok] - m) * p.inv_temp - log_z;
    entropy[row] = log_z - sum_ez / sum;
  }
}

// Backward, in place: logits[c, i] ← dlogp[row] · (1[i = target] − softmax(z)_i) / T  (= dL/dlogits).
@group(0) @binding(0) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(2) var<storage, read> dlogp: array<f32>;
@group(0) @binding(3) var<uniform> pb: Params;

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let c = wg.x;
  let base = c * pb.vocab;
  var lmax = -3.0e38;
  for (var i = t; i < pb.vocab; i += WG) { lmax = max(lmax, dlogits[base + i]); }
  let m = reduce_max(t, lmax);
  var se = 0.0;
  for (var i = t; i < pb.vocab; i += WG) { se += exp((dlogits[base + i] - m) * pb.inv_temp); }
  let log_z = log(reduce_sum(t, se));
  let row = pb.row_off + c;
  let tok = min(targets[row], pb.vocab - 1u);
  let g = dlogp[row] * pb.inv_temp;
  for (var i = t; i < pb.vocab; i += WG) {
    let prob = exp((dlogits[base + i] - m) * pb.inv_temp - log_z);
    dlogits[base + i] = g * (select(0.0, 1.0, i == tok) - prob);
  }
}
