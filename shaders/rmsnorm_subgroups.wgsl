// Included after rmsnorm.wgsl where the adapter has `subgroups`: the forward without a barrier (each of
// the tree reduction's eight costs a CPU adapter a switch of every invocation). One row per subgroup, its
// lanes splitting the row, subgroupAdd summing them. Subgroups of a 1-D workgroup are taken to be runs of
// consecutive local indices (as in matmul_subgroups), so a subgroup's lanes share a row.
// The host sizes the grid for the adapter's largest subgroup; smaller ones find fewer rows each.

const SG_WG = 64u;

@diagnostic(off, subgroup_uniformity)
@compute @workgroup_size(64)
fn forward_subgroups(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
                     @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_size) sg_size: u32,
                     @builtin(subgroup_invocation_id) lane: u32) {
  let width = min(sg_size, SG_WG);
  let groups = SG_WG / width;
  for (var r = (wg.y * nwg.x + wg.x) * groups + t / width; r < p.rows; r += nwg.x * nwg.y * groups) {
    let base = r * p.dim;
    var s = 0.0;
    for (var i = lane; i < p.dim; i += width) { let v = x[base + i]; s += v * v; }
    let inv = inverseSqrt(subgroupAdd(s) / f32(p.dim) + p.eps);
    if (lane == 0u) { rstd[r] = inv; }
    for (var i = lane; i < p.dim; i += width) { y[base + i] = x[base + i] * inv * f32(w[i]); }
  }
}
