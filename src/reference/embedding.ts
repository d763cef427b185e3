// Plain TypeScript reference for the embedding gather and its backward (f64).

type Arr = ArrayLike<number>;

/** out[r, :] = table[ids[r], :] */
export function embeddingRef(ids: Arr, table: Arr, dim: number): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let r = 0; r < ids.length; r++) for (let d = 0; d < dim; d++) out[r * dim + d] = table[ids[r] * dim + d];
  return out;
}

/** dTable [vocab, dim] = Σ over rows r with ids[r] = v of dOut[r, :] */
export function embeddingBackwardRef(ids: Arr, dOut: Arr, vocab: number, dim: number): Float64Array {
  const dTable = new Float64Array(vocab * dim);
  for (let r = 0; r < ids.length; r++) for (let d = 0; d < dim; d++) dTable[ids[r] * dim + d] += dOut[r * dim + d];
  return dTable;
}
