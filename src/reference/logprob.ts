// Plain TypeScript reference for token log-probabilities through the LM head, and their backward (f64).

type Arr = ArrayLike<number>;

/** z[v] = (hidden[r] · W[v]) / T over the vocabulary, and its softmax */
function rowSoftmax(hidden: Arr, W: Arr, r: number, V: number, D: number, T: number): { z: Float64Array; p: Float64Array; logZ: number } {
  const z = new Float64Array(V);
  let m = -Infinity;
  for (let v = 0; v < V; v++) {
    let dot = 0;
    for (let k = 0; k < D; k++) dot += hidden[r * D + k] * W[v * D + k];
    z[v] = dot / T;
    m = Math.max(m, z[v]);
  }
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(z[v] - m);
  const logZ = m + Math.log(s);
  return { z, p: z.map((x) => Math.exp(x - logZ)), logZ };
}

/** log softmax(hidden·Wᵀ / T)[targets[r]] and the entropy, per row of hidden [rows, D], W [V, D]. */
export function tokenLogprobsRef(hidden: Arr, W: Arr, targets: Arr, V: number, D: number, T: number): { logprobs: Float64Array; entropy: Float64Array } {
  const rows = targets.length;
  const logprobs = new Float64Array(rows);
  const entropy = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const { z, p, logZ } = rowSoftmax(hidden, W, r, V, D, T);
    logprobs[r] = z[targets[r]] - logZ;
    for (let v = 0; v < V; v++) entropy[r] -= p[v] * (z[v] - logZ);
  }
  return { logprobs, entropy };
}

/** For L = Σ_r dlogp[r] · logprobs[r]: dlogits = dlogp·(onehot − p)/T, dHidden = dlogits·W, dW = dlogitsᵀ·hidden. */
export function tokenLogprobsBackwardRef(
  hidden: Arr, W: Arr, targets: Arr, V: number, D: number, T: number, dlogp: Arr,
): { dHidden: Float64Array; dW: Float64Array } {
  const rows = targets.length;
  const dHidden = new Float64Array(rows * D);
  const dW = new Float64Array(V * D);
  for (let r = 0; r < rows; r++) {
    const { p } = rowSoftmax(hidden, W, r, V, D, T);
    for (let v = 0; v < V; v++) {
      const g = (dlogp[r] * ((v === targets[r] ? 1 : 0) - p[v])) / T;
      for (let k = 0; k < D; k++) {
        dHidden[r * D + k] += g * W[v * D + k];
        dW[v * D + k] += g * hidden[r * D + k];
      }
    }
  }
  return { dHidden, dW };
}
