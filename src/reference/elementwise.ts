// Plain TypeScript reference for the elementwise ops: rounded to f32 like the kernel, so equality is exact.

export function addRef(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]);
}
