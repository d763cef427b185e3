// Where the model's forward keeps its intermediates: one scratch set for inference, one set per layer for
// the backward pass, or per-layer inputs only with recomputation.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';

/**
 * Where the forward keeps its intermediates. Inference reuses one scratch tensor per name across layers;
 * training keeps one per layer for the backward pass. The residual stream is named "x" at each layer's
 * input (layer numLayers = the final one): in inference every layer shares it and updates it in place.
 */
export interface Activations {
  get(layer: number, name: string, shape: number[], dtype?: 'f32'): Tensor;
  /** true: only each layer's input is kept, and the backward recomputes the layer's forward first */
  readonly recompute?: boolean;
}

export class ScratchActivations implements Activations {
  private tensors = new Map<string, Tensor>();

  /** `label` prefixes the tensors' labels (memory accounting tells the passes apart by them) */
  constructor(private rt: GpuRuntime, private label = 'act') {}

  get(_layer: number, name: string, shape: number[]): Tensor {
    if (name === 'xmid') name = 'x'; // the residual stream is updated in place: no copy between blocks
    const need = shape.reduce((a, b) => a * b, 1);
    const have = this.tensors.get(name);
    if (have && have.size >= need) return have;
    have?.release();
    const t = this.rt.empty(shape, 'f32', `${this.label}.${name}`);
    this.tensors.set(name, t);
    return t;
  }

  release(): void {
    for (const t of this.tensors.values()) t.release();
    this.tensors.clear();
  }
}

/** Training: every layer keeps its own intermediates until the backward pass has used them. */
export class LayerActivations implements Activations {
  private tensors = new Map<string, Tensor>();

  constructor(private rt: GpuRuntime) {}

  get(layer: number, name: string, shape: number[]): Tensor {
    const key = `${layer}.${name}`;
    let t = this.tensors.get(key);
    if (!t) {
      t = this.rt.empty(shape, 'f32', `act.${key}`);
      this.tensors.set(key, t);
    }
    return t;
  }

  get bytes(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.byteLength;
    return n;
  }

  release(): void {
    for (const t of this.tensors.values()) t.release();
    this.tensors.clear();
  }
}

/**
 * Training with activation recomputation: only the residual stream at each layer's input ("x") is kept
 * per layer; every other intermediate lives in one scratch copy that the backward refills by re-running
 * that layer's forward (same kernels, same inputs: bit-identical values). Memory per layer drops from
 * ~(6·D + 3·I + qkv) to D floats per row, for one extra forward.
 */
export class RecomputeActivations implements Activations {
  readonly recompute = true;
  private kept: LayerActivations;
  private scratch = new Map<string, Tensor>();

  constructor(private rt: GpuRuntime) {
    this.kept = new LayerActivations(rt);
  }

  get(layer: number, name: string, shape: number[]): Tensor {
    if (name === 'x') return this.kept.get(layer, name, shape);
    let t = this.scratch.get(name);
    if (!t) {
      t = this.rt.empty(shape, 'f32', `act.any.${name}`);
      this.scratch.set(name, t);
    }
    return t;
  }

  release(): void {
    this.kept.release();
    for (const t of this.scratch.values()) t.release();
    this.scratch.clear();
  }
}
