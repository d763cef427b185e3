// Causal grouped-query attention over a KV cache.
// qkv rows hold [q (H·hd) | k (KVH·hd) | v (KVH·hd)]. Each row r belongs to a cache slot at position
// positions[r] and attends to keys 0..positions[r] of its slot, so one kernel serves prefill (many rows of
// one slot), batched decode (one row per slot) and training (many rows of many slots).
// slots holds per row either its slot (slot_stride 1) or (slot, prefix slot, prefix length) (slot_stride
// 3): keys below the prefix length are then read from the prefix slot. That is how the G completions of
// a GRPO group attend to one shared copy of their prompt.
// Cache layout: [slot, position, KVH·hd], f32.

struct Params {
  rows: u32, heads: u32, kv_heads: u32, head_dim: u32,
  max_len: u32, qkv_stride: u32, slot_stride: u32, scale: f32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> slots: array<u32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read_write> cache_k: array<f32>;
@group(0) @binding(4) var<storage, read_write> cache_v: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

// The cache slot row r writes its key to.
fn own_slot(r: u32, stride: u32) -> u32 {
  return slots[r * stride];
}

// The cache slot holding key j for query row r.
fn key_slot(r: u32, j: u32, stride: u32) -> u32 {
  if (stride == 1u) { return slots[r]; }
  return select(slots[3u * r], slots[3u * r + 1u], j < slots[3u * r + 2u]);
}

fn cache_base(slot: u32, pos: u32) -> u32 {
  return (slot * p.max_len + pos) * p.kv_heads * p.head_dim;
}

// Copies each row's (already rotated) k and v into its cache slot at its position.
@compute @workgroup_size(64)
fn store_kv(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let r = wg.y;
  let i = id.x;
  let width = p.kv_heads * p.head_dim;
  if (r >= p.rows || i >= width) { return; }
  let src = r * p.qkv_stride + p.heads * p.head_dim;
  let dst = cache_base(own_slot(r, p.slot_stride), positions[r]) + i;
  cache_k[dst] = qkv[src + i];
  cache_v[dst] = qkv[src + width + i];
}

const WG = 64u;
const MAX_HEAD_DIM = 256u;
var<workgroup> q_sh: array<f32, MAX_HEAD_DIM>;
var<workgroup> scores: array<f32, WG>;

// One workgroup per (row, head): keys in chunks of 64 (one per thread), online softmax across chunks,
// each thread accumulating up to 4 output dimensions.
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let r = wg.y;
  let h = wg.x;
  let hd = p.head_dim;
  let kvh = h / (p.heads / p.kv_heads);
  let q_base = r * p.qkv_stride + h * hd;
  for (var d = t; d < hd; d += WG) { q_sh[d] = qkv[q_base + d] * p.scale; }
  workgroupBarrier();
  let last = positions[r];
  var m = -3.0e38;
  var l = 0.0;
  var acc = vec4f(0.0);
  for (var c0 = 0u; c0 <= last; c0 += WG) {
    let j = c0 + t;
    var s = -3.0e38;
    if (j <= last) {
      let kb = cache_base(key_slot(r, j, p.slot_stride), j) + kvh * hd;
      var dot = 0.0;
      for (var d = 0u; d < hd; d++) { dot = fma(q_sh[d], cache_k[kb + d], dot); }
      s = dot;
    }
    scores[t] = s;
    workgroupBarrier();
    var cmax = m;
    for (var i = 0u; i < WG; i++) { cmax = max(cmax, scores[i]); }
    let correction = exp(m - cmax);
    workgroupBarrier();
    var pj = 0.0;
    if (j <= last) { pj = exp(s - cmax); }
    scores[t] = pj;
    workgroupBarrier();
    var csum = 0.0;
    acc *= correction;
    let n = min(WG, last + 1u - c0);
    for (var i = 0u; i < n; i++) {
      let w = scores[i];
      csum += w;
      let vb = cache_base(key_slot(r, c0 + i, p.slot_stride), c0 + i) + kvh * hd;
      for (var k = 0u; k < 4u; k++) {
        let d = t + k * WG;
        if (d < hd) { acc[k] = fma(w, cache_v[vb + d], acc[k]); }
      }
    }
    l = l * correction + csum;
    m = cmax;
    workgroupBarrier();
  }
  let o_base = r * p.heads * hd + h * hd;
  for (var k = 0u; k < 4u; k++) {
    let d = t + k * WG;
    if (d < hd) { out[o_base + d] = acc[k] / l; }
  }
  if (t == 0u) { lse[r * p.heads + h] = m + log(l); }
}

// ---- backward (flash-style: probabilities recomputed from the saved log-sum-exp) ----------------------
// With P = exp(s − lse), s = scale·q·k:  dP_j = dout·v_j,  δ = Σ_j P_j dP_j = dout·out,
// dS_j = P_j (dP_j − δ),  dq = scale Σ_j dS_j k_j,  dk_j = scale Σ_q dS_j q,  dv_j = Σ_q P_j dout_q.
// dq reads keys from the cache (so a cached prompt prefix is attended but gets no gradient); dk/dv are
// computed per key written by this batch, by looping over the query rows that see it. That loop assumes
// the rows that see row w's key follow it contiguously (as training batches are laid out: a slot's rows in
// increasing position order, the rows reading a shared prefix right after the rows that wrote it): rows
// w, w+1, … while they are in w's slot or read w's position from it as their prefix.
// Bindings (all three entries): qkv, slots, positions, cache_k, cache_v, out, lse, dout, stats, dqkv, pb.

@group(0) @binding(7) var<storage, read> dout: array<f32>;           // [rows, H·hd]
@group(0) @binding(8) var<storage, read_write> stats: array<f32>;    // [rows, H, 2]: lse, δ
@group(0) @binding(9) var<storage, read_write> dqkv: array<f32>;     // [rows, (H + 2·KVH)·hd]
@group(0) @binding(10) var<uniform> pb: Params;

fn kv_base(slot: u32, pos: u32) -> u32 {
  return (slot * pb.max_len + pos) * pb.kv_heads * pb.head_dim;
}

// Whether query row rq attends to the key at (slot, pos), for rq at or after the row that wrote it.
fn sees(rq: u32, slot: u32, pos: u32) -> bool {
  if (pb.slot_stride == 1u) { return slots[rq] == slot; }
  let b = 3u * rq;
  return slots[b] == slot || (slots[b + 1u] == slot && pos < slots[b + 2u]);
}

// One thread per (row, head): δ = dout·out, stored beside lse so the other entries bind one buffer.
@compute @workgroup_size(64)
fn backward_delta(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= pb.rows * pb.heads) { return; }
  let base = i * pb.head_dim;
  var d = 0.0;
  for (var k = 0u; k < pb.head_dim; k++) { d = fma(dout[base + k], out[base + k], d); }
  stats[2u * i] = lse[i];
  stats[2u * i + 1u] = d;
}

var<workgroup> do_sh: array<f32, MAX_HEAD_DIM>;
var<workgroup> k_sh: array<f32, MAX_HEAD_DIM>;
var<workgroup> v_sh: array<f32, MAX_HEAD_DIM>;
var<workgroup> ds_sh: array<f32, WG>;

// dq: one workgroup per (row, head), keys in chunks of 64 (one per thread), like the forward.
@compute @workgroup_size(64)
fn backward_dq(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let r = wg.y;
  let h = wg.x;
  let hd = pb.head_dim;
  let kvh = h / (pb.heads / pb.kv_heads);
  let q_base = r * pb.qkv_stride + h * hd;
  let o_base = (r * pb.heads + h) * hd;
  for (var d = t; d < hd; d += WG) {
    q_sh[d] = qkv[q_base + d] * pb.scale;
    do_sh[d] = dout[o_base + d];
  }
  workgroupBarrier();
  let l = stats[2u * (r * pb.heads + h)];
  let delta = stats[2u * (r * pb.heads + h) + 1u];
  let last = positions[r];
  var acc = vec4f(0.0);
  for (var c0 = 0u; c0 <= last; c0 += WG) {
    let j = c0 + t;
    var ds = 0.0;
    if (j <= last) {
      let kb = kv_base(key_slot(r, j, pb.slot_stride), j) + kvh * hd;
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < hd; d++) {
        s = fma(q_sh[d], cache_k[kb + d], s);
        dp = fma(do_sh[d], cache_v[kb + d], dp);
      }
      ds = exp(s - l) * (dp - delta);
    }
    ds_sh[t] = ds;
    workgroupBarrier();
    let n = min(WG, last + 1u - c0);
    for (var i = 0u; i < n; i++) {
      let w = ds_sh[i];
      let kb = kv_base(key_slot(r, c0 + i, pb.slot_stride), c0 + i) + kvh * hd;
      for (var k = 0u; k < 4u; k++) {
        let d = t + k * WG;
        if (d < hd) { acc[k] = fma(w, cache_k[kb + d], acc[k]); }
      }
    }
    workgroupBarrier();
  }
  for (var k = 0u; k < 4u; k++) {
    let d = t + k * WG;
    if (d < hd) { dqkv[q_base + d] = acc[k] * pb.scale; }
  }
}

var<workgroup> p_sh: array<f32, WG>;

// dk, dv: one workgroup per (writer row w, kv head); query rows in chunks of 64 (one per thread), and
// for each chunk every query head sharing this kv head (GQA sums over the group).
@compute @workgroup_size(64)
fn backward_dkv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let w = wg.y;
  let kvh = wg.x;
  let hd = pb.head_dim;
  let group = pb.heads / pb.kv_heads;
  let slot = own_slot(w, pb.slot_stride);
  let pos = positions[w];
  let kb = kv_base(slot, pos) + kvh * hd;
  for (var d = t; d < hd; d += WG) {
    k_sh[d] = cache_k[kb + d];
    v_sh[d] = cache_v[kb + d];
  }
  workgroupBarrier();
  var dk = vec4f(0.0);
  var dv = vec4f(0.0);
  for (var c0 = w; c0 < pb.rows && sees(c0, slot, pos); c0 += WG) {
    let rq = c0 + t;
    let valid = rq < pb.rows && sees(rq, slot, pos);
    let n = min(WG, pb.rows - c0);
    for (var g = 0u; g < group; g++) {
      let h = kvh * group + g;
      var pj = 0.0;
      var ds = 0.0;
      if (valid) {
        let qb = rq * pb.qkv_stride + h * hd;
        let ob = (rq * pb.heads + h) * hd;
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < hd; d++) {
          s = fma(qkv[qb + d], k_sh[d], s);
          dp = fma(dout[ob + d], v_sh[d], dp);
        }
        let si = 2u * (rq * pb.heads + h);
        pj = exp(s * pb.scale - stats[si]);
        ds = pj * (dp - stats[si + 1u]);
      }
      p_sh[t] = pj;
      ds_sh[t] = ds;
      workgroupBarrier();
      for (var i = 0u; i < n; i++) {
        let a = p_sh[i];
        let b = ds_sh[i];
        if (a == 0.0 && b == 0.0) { continue; } // rows not seeing this key (or underflowed): nothing to add
        let qb = (c0 + i) * pb.qkv_stride + h * hd;
        let ob = ((c0 + i) * pb.heads + h) * hd;
        for (var k = 0u; k < 4u; k++) {
          let d = t + k * WG;
          if (d < hd) {
            dv[k] = fma(a, dout[ob + d], dv[k]);
            dk[k] = fma(b, qkv[qb + d], dk[k]);
          }
        }
      }
      workgroupBarrier();
    }
  }
  let kcol = w * pb.qkv_stride + pb.heads * hd + kvh * hd;
  let vcol = kcol + pb.kv_heads * hd;
  for (var k = 0u; k < 4u; k++) {
    let d = t + k * WG;
    if (d < hd) {
      dqkv[kcol + d] = dk[k] * pb.scale;
      dqkv[vcol + d] = dv[k];
    }
  }
}
