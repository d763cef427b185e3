// The trainable policy: which tensors train (all of them, or LoRA adapters over a frozen base), their
// gradients and AdamW moments, and the map back to Hugging Face / PEFT names for export.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import type { LoadedModel } from '../model/source.ts';
import { instantiateModel } from '../model/instantiate.ts';
import type { LayerAdapters, LayerGrads, LinearSite, LoraAdapter, ModelGrads, Qwen2Model } from '../model/model.ts';
import type { ParamState } from '../ops/optim.ts';
import { Rng } from '../util/random.ts';
import { PEFT_MODULE, SITE_OF, loraGeometry, type LoraTarget } from '../model/lora.ts';

export { PEFT_MODULE, type LoraTarget };

export interface LoraSettings {
  rank: number;
  alpha: number;
  targets: LoraTarget[];
}

export interface PolicySettings {
  mode: 'full' | 'lora';
  lora?: LoraSettings;
  /** longest prompt + completion */
  maxPositions: number;
  seed: number;
}

/** A trainable tensor with its gradient, moments and exported name(s). */
export interface NamedParam extends ParamState {
  name: string;
}

/** Rows of a fused engine tensor that belong to one Hugging Face tensor. */
export interface HfSlice {
  hfName: string;
  rowStart: number;
  rows: number;
}

export class Policy {
  readonly params: NamedParam[] = [];
  readonly grads: ModelGrads;
  /** engine tensor name → its Hugging Face slices (full fine-tuning) */
  readonly hfSlices = new Map<string, HfSlice[]>();
  /** the global gradient norm AdamW computes (and clips by), on the GPU */
  readonly gradNorm: Tensor;

  private constructor(readonly rt: GpuRuntime, readonly model: Qwen2Model, readonly settings: PolicySettings) {
    this.gradNorm = rt.empty([4], 'f32', 'grad-norm');
    this.grads = settings.mode === 'full' ? this.fullParams() : this.loraParams(settings.lora!);
  }

  static create(rt: GpuRuntime, loaded: LoadedModel, settings: PolicySettings): Policy {
    // Trained matrices must be f32; a LoRA base stays frozen in f16 where the adapter allows.
    const model = instantiateModel(rt, loaded, {
      maxPositions: settings.maxPositions,
      matrixDtype: settings.mode === 'full' ? 'f32' : undefined,
    });
    return new Policy(rt, model, settings);
  }

  private track(name: string, param: Tensor, weightDecay?: number): Tensor {
    const zeros = () => this.rt.upload(param.shape, new Float32Array(param.size), 'f32', `${name}.state`);
    const grad = zeros();
    this.params.push({ name, param, grad, m: zeros(), v: zeros(), weightDecay });
    return grad;
  }

  private fullParams(): ModelGrads {
    const c = this.model.config;
    const W = this.model.weights;
    const q = c.numHeads * c.headDim;
    const kv = c.numKvHeads * c.headDim;
    const I = c.intermediateSize;
    const slice = (engine: string, parts: [string, number][]) => {
      let at = 0;
      this.hfSlices.set(engine, parts.map(([hfName, rows]) => ({ hfName, rowStart: (at += rows) - rows, rows })));
    };
    const embed = this.track('embed', W.embed);
    slice('embed', [['model.embed_tokens.weight', c.vocabSize]]);
    const layers: LayerGrads[] = W.layers.map((w, i) => {
      const p = `model.layers.${i}`;
      const name = (n: string) => `layers.${i}.${n}`;
      slice(name('inputNorm'), [[`${p}.input_layernorm.weight`, c.hiddenSize]]);
      slice(name('qkv'), [[`${p}.self_attn.q_proj.weight`, q], [`${p}.self_attn.k_proj.weight`, kv], [`${p}.self_attn.v_proj.weight`, kv]]);
      slice(name('qkvBias'), [[`${p}.self_attn.q_proj.bias`, q], [`${p}.self_attn.k_proj.bias`, kv], [`${p}.self_attn.v_proj.bias`, kv]]);
      slice(name('o'), [[`${p}.self_attn.o_proj.weight`, c.hiddenSize]]);
      slice(name('postNorm'), [[`${p}.post_attention_layernorm.weight`, c.hiddenSize]]);
      slice(name('gateUp'), [[`${p}.mlp.gate_proj.weight`, I], [`${p}.mlp.up_proj.weight`, I]]);
      slice(name('down'), [[`${p}.mlp.down_proj.weight`, c.hiddenSize]]);
      return {
        inputNorm: this.track(name('inputNorm'), w.inputNorm, 0),
        qkv: this.track(name('qkv'), w.qkv),
        qkvBias: this.track(name('qkvBias'), w.qkvBias, 0),
        o: this.track(name('o'), w.o),
        postNorm: this.track(name('postNorm'), w.postNorm, 0),
        gateUp: this.track(name('gateUp'), w.gateUp),
        down: this.track(name('down'), w.down),
      };
    });
    const norm = this.track('norm', W.norm, 0);
    slice('norm', [['model.norm.weight', c.hiddenSize]]);
    let lmHead = embed;
    if (!c.tieWordEmbeddings) {
      lmHead = this.track('lmHead', W.lmHead);
      slice('lmHead', [['lm_head.weight', c.vocabSize]]);
    }
    return { embed, layers, norm, lmHead, adapters: null };
  }

  private loraParams(lora: LoraSettings): ModelGrads {
    const c = this.model.config;
    const rng = new Rng(this.settings.seed);
    const geometry = loraGeometry(c);
    const adapters: LayerAdapters[] = [];
    const grads: ModelGrads['adapters'] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const layer: LayerAdapters = { qkv: [], o: [], gateUp: [], down: [] };
      const layerGrads: Record<LinearSite, { A: Tensor; B: Tensor }[]> = { qkv: [], o: [], gateUp: [], down: [] };
      for (const target of lora.targets) {
        const { inWidth: inW, outRows, colOff } = geometry[target];
        // PEFT's init: A ~ kaiming-uniform (bound 1/sqrt(in)), B = 0, so training starts at the base model.
        const bound = 1 / Math.sqrt(inW);
        const name = `base_model.model.model.layers.${l}.${PEFT_MODULE[target]}`;
        const A = this.rt.upload([lora.rank, inW], rng.uniformArray(lora.rank * inW, -bound, bound), 'f32', `${name}.lora_A`);
        const B = this.rt.upload([outRows, lora.rank], new Float32Array(outRows * lora.rank), 'f32', `${name}.lora_B`);
        const adapter: LoraAdapter = { target, A, B, scale: lora.alpha / lora.rank, colOff };
        layer[SITE_OF[target]].push(adapter);
        layerGrads[SITE_OF[target]].push({ A: this.track(`${name}.lora_A.weight`, A), B: this.track(`${name}.lora_B.weight`, B) });
      }
      adapters.push(layer);
      grads.push(layerGrads);
    }
    this.model.adapters = adapters;
    const none: LayerGrads = { inputNorm: null, qkv: null, qkvBias: null, o: null, postNorm: null, gateUp: null, down: null };
    return { embed: null, layers: adapters.map(() => none), norm: null, lmHead: null, adapters: grads };
  }

  zeroGrads(): void {
    for (const p of this.params) this.rt.zero(p.grad);
  }

  release(): void {
    for (const p of this.params) for (const t of [p.grad, p.m, p.v]) t.release();
    if (this.model.adapters) for (const layer of this.model.adapters) for (const list of Object.values(layer)) for (const a of list) { a.A.release(); a.B.release(); }
    this.model.release();
    this.gradNorm.release();
  }

  /** Bytes of the trainable state: parameters' gradients and both moments (the weights are the model's). */
  get stateBytes(): number {
    return this.params.reduce((n, p) => n + 3 * p.grad.byteLength, 0);
  }
}
