// Causal grouped-query attention over a KV cache.
// qkv rows hold [q (H·hd) | k (KVH·hd) | v (KVH·hd)]. Each row r belongs to cache slot slots[r] at position
// positions[r] and attends to keys 0..positions[r] of its slot, so one kernel serves prefill (many rows of
// one slot), batched decode (one row per slot) and training (many rows of many slots).
// Cache layout: [slot, position, KVH·hd], f32.

struct Params {
  rows: u32, heads: u32, kv_heads: u32, head_dim: u32,
  max_len: u32, qkv_stride: u32, scale: f32, _p: u32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> slots: array<u32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read_write> cache_k: array<f32>;
@group(0) @binding(4) var<storage, read_write> cache_v: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

fn cache_base(r: u32, pos: u32) -> u32 {
  return (slots[r] * p.max_len + pos) * p.kv_heads * p.head_dim;
}

// Copies each row's (already rotated) k and v into its cache slot at its position.
@compute @workgroup_size(64)
fn store_kv(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let r = wg.y;
  let i = id.x;
  let width = p.kv_heads * p.head_dim;
  if (r >= p.rows || i >= width) { return; }
  let src = r * p.qkv_stride + p.heads * p.head_dim;
  let dst = cache_base(r, positions[r]) + i;
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
      let kb = cache_base(r, j) + kvh * hd;
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
      let vb = cache_base(r, c0 + i) + kvh * hd;
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
