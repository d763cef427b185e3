// Token sampling on the GPU, one workgroup per sequence: greedy, or temperature with optional top-k and
// top-p, from a counter-based RNG (seed, sequence, step) so the same seed gives the same tokens.
// Writes the sampled id and its log-probability under logits / temperature over the full vocabulary
// (what GRPO's ratio uses), and never reads the logits back to the host.
// Includes workgroup_reduce.wgsl.

struct Params {
  rows: u32, vocab: u32, top_k: u32, seed: u32,
  step: u32, row_off: u32, temperature: f32, top_p: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> probs: array<f32>; // scratch [rows, vocab]
@group(0) @binding(2) var<storage, read_write> next_ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> logprobs: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn uniform01(seq: u32) -> f32 {
  let bits = pcg(p.seed ^ pcg(seq ^ pcg(p.step + 0x9e3779b9u)));
  return f32(bits >> 8u) / 16777216.0;
}

@compute @workgroup_size(256)
fn sample_token(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = wg.x;
  let base = row * p.vocab;
  let V = p.vocab;

  // Max logit, and the lowest index holding it (greedy's tie-break).
  var lmax = -3.0e38;
  for (var i = t; i < V; i += WG) { lmax = max(lmax, logits[base + i]); }
  let m = reduce_max(t, lmax);
  var first = 0xffffffffu;
  for (var i = t; i < V; i += WG) { if (logits[base + i] == m) { first = min(first, i); } }
  let argmax = reduce_min_u(t, first);

  if (p.temperature <= 0.0) {
    if (t == 0u) { next_ids[p.row_off + row] = argmax; logprobs[p.row_off + row] = 0.0; }
    return;
  }
  let inv_t = 1.0 / p.temperature;

  // Full-vocabulary normaliser of softmax(logits / T), for the log-probability.
  var zf = 0.0;
  for (var i = t; i < V; i += WG) { zf += exp((logits[base + i] - m) * inv_t); }
  let z_full = reduce_sum(t, zf);

  // Top-k: the k-th largest logit by bisection on the value (ties at the threshold are all kept).
  var kth = -3.0e38;
  if (p.top_k > 0u && p.top_k < V) {
    var lmin = 3.0e38;
    for (var i = t; i < V; i += WG) { lmin = min(lmin, logits[base + i]); }
    var lo = -reduce_max(t, -lmin);
    var hi = m;
    for (var it = 0u; it < 40u; it++) {
      let mid = 0.5 * (lo + hi);
      var c = 0.0;
      for (var i = t; i < V; i += WG) { if (logits[base + i] >= mid) { c += 1.0; } }
      let count = reduce_sum(t, c);
      if (count >= f32(p.top_k)) { lo = mid; } else { hi = mid; }
    }
    kth = lo;
  }

  // Unnormalised kept probabilities (max = 1).
  var zk = 0.0;
  for (var i = t; i < V; i += WG) {
    let x = logits[base + i];
    var e = 0.0;
    if (x >= kth) { e = exp((x - m) * inv_t); }
    probs[base + i] = e;
    zk += e;
  }
  var mass = reduce_sum(t, zk);

  // Top-p: the largest threshold θ whose kept mass Σ_{e ≥ θ} e still reaches top_p of the total.
  var theta = 0.0;
  if (p.top_p < 1.0) {
    var lo = 0.0;
    var hi = 1.0;
    let wanted = p.top_p * mass;
    for (var it = 0u; it < 40u; it++) {
      let mid = 0.5 * (lo + hi);
      var s = 0.0;
      for (var i = t; i < V; i += WG) { let e = probs[base + i]; if (e >= mid) { s += e; } }
      let kept = reduce_sum(t, s);
      if (kept >= wanted) { lo = mid; } else { hi = mid; }
    }
    theta = lo;
    var s = 0.0;
    for (var i = t; i < V; i += WG) { let e = probs[base + i]; if (e >= theta) { s += e; } }
    mass = reduce_sum(t, s);
  }

  // Inverse-CDF sample in vocabulary order: each thread sums a contiguous chunk, thread 0 finds the chunk
  // holding the target and scans it.
  let chunk = (V + WG - 1u) / WG;
  let lo_i = min(t * chunk, V);
  let hi_i = min(lo_i + chunk, V);
  var cs = 0.0;
  for (var i = lo_i; i < hi_i; i++) { let e = probs[base + i]; if (e >= theta) { cs += e; } }
  red[t] = cs;
  workgroupBarrier();
  if (t == 0u) {
    let goal = uniform01(row) * mass; // stream (seed, row, step): independent of the batch size
    var acc = 0.0;
    var pick = argmax;
    var found = false;
    for (var c = 0u; c < WG && !found; c++) {
      if (acc + red[c] > goal) {
        let a = min(c * chunk, V);
        let b = min(a + chunk, V);
        for (var i = a; i < b; i++) {
          let e = probs[base + i];
          if (e >= theta && e > 0.0) {
            acc += e;
            pick = i;
            if (acc > goal) { found = true; break; }
          }
        }
      } else {
        acc += red[c];
      }
    }
    next_ids[p.row_off + row] = pick;
    logprobs[p.row_off + row] = (logits[base + pick] - m) * inv_t - log(z_full);
  }
}
