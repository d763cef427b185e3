// Included after attention.wgsl where the adapter has `subgroups`: the forward without a barrier or shared
// memory (barriers are what a CPU adapter pays for most: SwiftShader switches every invocation at each).
// Each subgroup owns (row, head) pairs. Per chunk of `width` keys, lane i scores key c0 + i, the chunk's max
// and sum are subgroup reductions, and every lane adds the chunk's values into its own output dimensions
// (lane, lane + width, ...), taking each key's weight from its lane by a shuffle.
// Subgroups of a 1-D workgroup are taken to be runs of consecutive local indices (as in matmul_subgroups):
// a subgroup's lanes share a pair and take the same branches, which the analysis cannot see.
// The host sizes the grid for the adapter's largest subgroup; smaller ones find fewer pairs each.

const SG_MIN = 4u; // the smallest subgroup taken: each lane holds MAX_HEAD_DIM / SG_MIN output dimensions
const DIMS_PER_LANE = MAX_HEAD_DIM / SG_MIN;

@diagnostic(off, subgroup_uniformity)
@compute @workgroup_size(64)
fn forward_subgroups(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
                     @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_size) sg_size: u32,
                     @builtin(subgroup_invocation_id) lane: u32) {
  let width = min(sg_size, WG);
  let groups = WG / width;
  let hd = p.head_dim;
  let dims = (hd + width - 1u) / width;
  for (var pair = (wg.y * nwg.x + wg.x) * groups + t / width; pair < p.rows * p.heads; pair += nwg.x * nwg.y * groups) {
    let r = pair / p.heads;
    let h = pair % p.heads;
    let kvh = h / (p.heads / p.kv_heads);
    let q_base = r * p.qkv_stride + h * hd;
    let last = positions[r];
    var m = -3.0e38;
    var l = 0.0;
    var acc = array<f32, DIMS_PER_LANE>();
    for (var c0 = 0u; c0 <= last; c0 += width) {
      let j = c0 + lane;
      var s = -3.0e38;
      if (j <= last) {
        let kb = cache_base(key_slot(r, j, p.slot_stride), j) + kvh * hd;
        var dot = 0.0;
        for (var d = 0u; d < hd; d++) { dot = fma(qkv[q_base + d] * p.scale, cache_k[kb + d], dot); }
        s = dot;
      }
      let cmax = max(m, subgroupMax(s));
      let correction = exp(m - cmax);
      var pj = 0.0;
      if (j <= last) { pj = exp(s - cmax); }
      l = l * correction + subgroupAdd(pj);
      m = cmax;
      for (var k = 0u; k < dims; k++) { acc[k] *= correction; }
      let n = min(width, last + 1u - c0);
      for (var i = 0u; i < n; i++) {
        let w = subgroupShuffle(pj, i);
        let vb = cache_base(key_slot(r, c0 + i, p.slot_stride), c0 + i) + kvh * hd;
        for (var k = 0u; k < dims; k++) {
          let d = lane + k * width;
          if (d < hd) { acc[k] = fma(w, cache_v[vb + d], acc[k]); }
        }
      }
    }
    let o_base = r * p.heads * hd + h * hd;
    for (var k = 0u; k < dims; k++) {
      let d = lane + k * width;
      if (d < hd) { out[o_base + d] = acc[k] / l; }
    }
    if (lane == 0u) { lse[r * p.heads + h] = m + log(l); }
  }
}
