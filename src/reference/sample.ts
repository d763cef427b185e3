// Plain TypeScript reference for what the sampler writes beside a token: its log-probability (f64).

/** log softmax(x / T)[i] over the full vocabulary */
export function logSoftmaxAt(logits: ArrayLike<number>, i: number, temperature: number): number {
  let m = -Infinity;
  for (let j = 0; j < logits.length; j++) m = Math.max(m, logits[j] / temperature);
  let z = 0;
  for (let j = 0; j < logits.length; j++) z += Math.exp(logits[j] / temperature - m);
  return logits[i] / temperature - m - Math.log(z);
}
