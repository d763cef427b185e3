// Included after matmul.wgsl where the adapter has `subgroups`: skinny_vec4 without a barrier or shared memory.
// Each subgroup owns blocks of SK_COLS output columns; its lanes split K (consecutive lanes read consecutive
// vec4s of a weight row) and subgroupAdd sums them. Subgroups of a 1-D workgroup are taken to be runs of
// consecutive local indices (as on every WebGPU backend), so a subgroup's lanes share g and take the same
// branches: control flow is subgroup-uniform, which the analysis cannot see (hence the diagnostic).
// The host sizes the grid for the adapter's largest subgroup; smaller ones find fewer blocks each.

@diagnostic(off, subgroup_uniformity)
@compute @workgroup_size(64)
fn skinny_vec4_subgroups(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
                         @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_size) sg_size: u32,
                         @builtin(subgroup_invocation_id) lane: u32) {
  let width = min(sg_size, SK_THREADS); // lanes present in one subgroup
  let groups = SK_THREADS / width;
  let g = t / width;
  let blocks = (p.N + SK_COLS - 1u) / SK_COLS;
  for (var blk = (wg.y * nwg.x + wg.x) * groups + g; blk < blocks; blk += nwg.x * nwg.y * groups) {
    let col0 = blk * SK_COLS;
    for (var r0 = 0u; r0 < p.M; r0 += MAX_ROWS) {
      let acc = skinny_vec4_dot(r0, col0, lane, width);
      for (var r = 0u; r < MAX_ROWS; r++) {
        if (r0 + r < p.M) {
          let s = subgroupAdd(acc[r]);
          if (lane == 0u) {
            for (var j = 0u; j < SK_COLS; j++) {
              if (col0 + j < p.N) { store(r0 + r, col0 + j, s[j]); }
            }
          }
        }
      }
    }
  }
}
