// Matrix multiply C[m, n] (+)= alpha · Σ_k A(m, k) · B(n, k) (+ bias[n]), with strided views of A and B so
// one kernel serves the forward (X·Wᵀ), both backward products (dY·W and dYᵀ·X) and LoRA's low-rank
// updates written into a column slice of a wider output (c_sm ≥ N).
// WT is the element type of B (f32, or f16 for frozen weights), aliased by the registry. Bias and
// accumulation are flags in the uniform block, not pipeline constants: one pipeline serves every linear.

struct Params {
  M: u32, N: u32, K: u32, flags: u32, // flags: 1 = add bias[n], 2 = C += (gradient accumulation)
  // element (m, k) of A is A[a_off + m * a_sm + k * a_sk]; element (n, k) of B is B[b_off + n * b_sn + k * b_sk]
  a_sm: u32, a_sk: u32, b_sn: u32, b_sk: u32,
  a_off: u32, b_off: u32, c_off: u32, c_sm: u32, // C[m, n] at c_off + m * c_sm + n
  alpha: f32, _pad1: u32, _pad2: u32, _pad3: u32,
}


@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<WT>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn a_at(m: u32, k: u32) -> f32 { return A[p.a_off + m * p.a_sm + k * p.a_sk]; }
fn b_at(n: u32, k: u32) -> f32 { return f32(B[p.b_off + n * p.b_sn + k * p.b_sk]); }

fn store(m: u32, n: u32, v: f32) {
  var out = p.alpha * v;
  if ((p.flags & 1u) != 0u) { out += bias[n]; }
  let i = p.c_off + m * p.c_sm + n;
  if ((p.flags & 2u) != 0u) { out += C[i]; }
  C[i] = out;
}

// ---- tiled: 64×64 output tile per workgroup, 4×4 outputs per thread, K in steps of 16 -----------------

const TILE = 64u;
const TK = 16u;
var<workgroup> As: array<f32, 1024>; // [TK][TILE], k-major so the inner loop reads rows contiguously
var<workgroup> Bs: array<f32, 1024>;

@compute @workgroup_size(16, 16)
fn tiled(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
         @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var i = 0u; i < 4u; i++) {
      let e = li + i * 256u;
      let r = e / TK;
      let c = e % TK;
      let gk = k0 + c;
      var av = 0.0;
      if (row0 + r < p.M && gk < p.K) { av = a_at(row0 + r, gk); }
      As[c * TILE + r] = av;
      var bv = 0.0;
      if (col0 + r < p.N && gk < p.K) { bv = b_at(col0 + r, gk); }
      Bs[c * TILE + r] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = As[kk * TILE + lid.y + 16u * i];
        b[i] = Bs[kk * TILE + lid.x + 16u * i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = fma(a[i], b[j], acc[i * 4u + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = col0 + lid.x + 16u * j;
      if (m < p.M && n < p.N) { store(m, n, acc[i * 4u + j]); }
    }
  }
}

// ---- skinny: few rows (decode), 4 output columns per workgroup, 64 threads split K -------------------
// Every weight is read once per step for all sequences: decode cost barely grows with the batch. Rows go
// in blocks of MAX_ROWS (the accumulators stay in registers); a block after the first re-reads the
// workgroup's few weight columns from cache, not from memory.
// This scalar entry serves any strides (the backward's transposed views); skinny_vec4 below is the fast one.

const SK_THREADS = 64u;
const SK_COLS = 4u;
const MAX_ROWS = 8u;
var<workgroup> partial: array<f32, 2048>; // [SK_THREADS][MAX_ROWS * SK_COLS]

@compute @workgroup_size(64)
fn skinny(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
          @builtin(num_workgroups) nwg: vec3u) {
  let col0 = (wg.y * nwg.x + wg.x) * SK_COLS;
  for (var r0 = 0u; r0 < p.M; r0 += MAX_ROWS) {
    var acc = array<f32, 32>(); // [MAX_ROWS][SK_COLS], zeroed per block (explicitly: SwiftShader kept a loop-local one)
    for (var k = t; k < p.K; k += SK_THREADS) {
      var b: array<f32, 4>;
      for (var j = 0u; j < SK_COLS; j++) {
        if (col0 + j < p.N) { b[j] = b_at(col0 + j, k); }
      }
      for (var r = 0u; r < MAX_ROWS; r++) {
        if (r0 + r < p.M) {
          let a = a_at(r0 + r, k);
          for (var j = 0u; j < SK_COLS; j++) { acc[r * SK_COLS + j] = fma(a, b[j], acc[r * SK_COLS + j]); }
        }
      }
    }
    for (var i = 0u; i < MAX_ROWS * SK_COLS; i++) { partial[t * 32u + i] = acc[i]; } // constant bounds: acc stays in registers
    workgroupBarrier();
    sum_partials(t, r0, col0, SK_THREADS);
    workgroupBarrier(); // the next block overwrites partial
  }
}

/** Thread i < rows·SK_COLS adds up value i of the first `count` partials and stores it for row r0 + i / SK_COLS. */
fn sum_partials(t: u32, r0: u32, col0: u32, count: u32) {
  if (t < min(p.M - r0, MAX_ROWS) * SK_COLS) {
    var s = 0.0;
    for (var j = 0u; j < count; j++) { s += partial[j * 32u + t]; }
    let n = col0 + t % SK_COLS;
    if (n < p.N) { store(r0 + t / SK_COLS, n, s); }
  }
}

// ---- skinny_vec4: A and B contiguous along K, K a multiple of 4 (every projection and the LM head) ---------
// Bandwidth-bound: each weight row is read once, as vec4 loads that consecutive threads take from consecutive
// addresses, and is reused for a block of MAX_ROWS rows of A (the row loop is unrolled; rows past M are
// skipped). 64 threads split K for 4 columns, one barrier per block; matmul_subgroups.wgsl has the
// barrier-free subgroup variant.

@group(0) @binding(0) var<storage, read> A4: array<vec4f>;
@group(0) @binding(1) var<storage, read> B4: array<vec4<WT>>;

/**
 * Σ over k = k_first, k_first + k_step, ... < K/4 of A4(r0 + r, k)·B4(col0 + j, k), for every row r < MAX_ROWS
 * with r0 + r < M and j < 4.
 */
fn skinny_vec4_dot(r0: u32, col0: u32, k_first: u32, k_step: u32) -> array<vec4f, MAX_ROWS> {
  var acc: array<vec4f, MAX_ROWS>;
  let K4 = p.K / 4u;
  // Columns past N read the last valid one (in bounds; never stored).
  var b: array<u32, SK_COLS>;
  for (var j = 0u; j < SK_COLS; j++) { b[j] = (p.b_off + min(col0 + j, p.N - 1u) * p.b_sn) / 4u; }
  let am = p.a_sm / 4u;
  let a0 = p.a_off / 4u + r0 * am;
  for (var k = k_first; k < K4; k += k_step) {
    let w0 = vec4f(B4[b[0] + k]);
    let w1 = vec4f(B4[b[1] + k]);
    let w2 = vec4f(B4[b[2] + k]);
    let w3 = vec4f(B4[b[3] + k]);
    for (var r = 0u; r < MAX_ROWS; r++) {
      if (r0 + r < p.M) {
        let a = A4[a0 + r * am + k];
        acc[r] += vec4f(dot(a, w0), dot(a, w1), dot(a, w2), dot(a, w3));
      }
    }
  }
  return acc;
}

@compute @workgroup_size(64)
fn skinny_vec4(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32,
               @builtin(num_workgroups) nwg: vec3u) {
  let col0 = (wg.y * nwg.x + wg.x) * SK_COLS;
  for (var r0 = 0u; r0 < p.M; r0 += MAX_ROWS) {
    let acc = skinny_vec4_dot(r0, col0, t, SK_THREADS);
    for (var r = 0u; r < MAX_ROWS; r++) {
      if (r0 + r < p.M) {
        for (var j = 0u; j < SK_COLS; j++) { partial[t * 32u + r * SK_COLS + j] = acc[r][j]; }
      }
    }
    workgroupBarrier();
    sum_partials(t, r0, col0, SK_THREADS);
    workgroupBarrier(); // the next block overwrites partial
  }
}
