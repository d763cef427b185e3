// Included by kernels that reduce over a 256-thread workgroup (KernelSpec.includes), not an op of its own.
// Tree reductions in a fixed order (deterministic); every thread of the workgroup must call them, and each
// ends with a barrier so that the next reduction may reuse the scratch array at once.

const WG = 256u;
var<workgroup> red: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;

fn reduce_sum(t: u32, v: f32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_max(t: u32, v: f32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_min_u(t: u32, v: u32) -> u32 {
  red_u[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red_u[t] = min(red_u[t], red_u[t + s]); }
    workgroupBarrier();
  }
  let r = red_u[0];
  workgroupBarrier();
  return r;
}
