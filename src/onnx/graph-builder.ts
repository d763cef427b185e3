// A small helper for writing ONNX graphs by hand: named values, nodes, constants and weights. The protobuf
// messages and their encoding come from onnx-proto (protobufjs bindings of onnx.proto).
import onnxProto from 'onnx-proto';
import { f32ToF16Bits } from '../gpu/half.ts';

export const { onnx } = onnxProto;
export type ElemType = 'float32' | 'float16' | 'int64' | 'bool';

const DATA_TYPE: Record<ElemType, number> = { float32: 1, int64: 7, bool: 9, float16: 10 };
const ELEM_BYTES: Record<ElemType, number> = { float32: 4, int64: 8, bool: 1, float16: 2 };

/** A dimension: a fixed size, or a symbolic name for a dynamic one ("batch", "sequence_length", ...). */
export type Dim = number | string;
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

/** An initializer's bytes and where they will live (inside model.onnx, or in the external data file). */
export interface Weight {
  name: string;
  type: ElemType;
  dims: number[];
  bytes: Uint8Array;
}

export class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  /** constants and weights, in the order added */
  readonly weights: Weight[] = [];
  private counter = 0;

  private fresh(hint: string): string {
    return `/${hint}_${this.counter++}`;
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** One node with one output; `out` names it (a graph output), otherwise a fresh name is made up. */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.opN(type, inputs, 1, attrs, out ? [out] : undefined)[0];
  }

  opN(type: string, inputs: string[], count: number, attrs: Record<string, AttrValue> = {}, outs?: string[]): string[] {
    const name = this.fresh(type);
    const outputs = outs ?? Array.from({ length: count }, (_, i) => `${name}_out${i}`);
    this.nodes.push({ opType: type, name, input: inputs, output: outputs, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return outputs;
  }

  weight(name: string, type: ElemType, dims: number[], data: Float32Array | Uint16Array | BigInt64Array | Uint8Array): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const expected = dims.reduce((a, b) => a * b, 1) * ELEM_BYTES[type];
    if (bytes.byteLength !== expected) throw new Error(`onnx weight ${name}: ${bytes.byteLength} bytes for dims [${dims}] of ${type}`);
    this.weights.push({ name, type, dims, bytes });
    return name;
  }

  /** A small constant (shapes, axes, scalars); 1-D unless `dims` says otherwise ([] = scalar). */
  ints(values: number[], dims: number[] = [values.length]): string {
    return this.weight(this.fresh('const'), 'int64', dims, BigInt64Array.from(values.map(BigInt)));
  }

  floats(values: number[], type: 'float32' | 'float16', dims: number[] = [values.length]): string {
    const data = type === 'float32' ? Float32Array.from(values) : Uint16Array.from(values.map(f32ToF16Bits));
    return this.weight(this.fresh('const'), type, dims, data);
  }

  /**
   * The ModelProto. Weights at least `externalMin` bytes go to `externalFile` (ONNX external data, each at an
   * offset aligned to 64 bytes); the chunks to write there are returned in order.
   */
  model(opset: number, producer: string, external?: { file: string; min: number }): { model: onnxProto.onnx.IModelProto; externalChunks: Uint8Array[] } {
    const externalChunks: Uint8Array[] = [];
    let offset = 0;
    const initializer = this.weights.map((w): onnxProto.onnx.ITensorProto => {
      const t: onnxProto.onnx.ITensorProto = { name: w.name, dataType: DATA_TYPE[w.type], dims: w.dims };
      if (!external || w.bytes.byteLength < external.min) return { ...t, rawData: w.bytes };
      const pad = (64 - (offset % 64)) % 64;
      if (pad) externalChunks.push(new Uint8Array(pad));
      offset += pad;
      externalChunks.push(w.bytes);
      const entry = { location: external.file, offset: String(offset), length: String(w.bytes.byteLength) };
      offset += w.bytes.byteLength;
      return { ...t, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: Object.entries(entry).map(([key, value]) => ({ key, value })) };
    });
    const graph: onnxProto.onnx.IGraphProto = { name: 'main', node: this.nodes, input: this.inputs, output: this.outputs, initializer };
    return {
      model: { irVersion: 8, producerName: producer, opsetImport: [{ domain: '', version: opset }], graph },
      externalChunks,
    };
  }
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DATA_TYPE[type], shape: { dim } } } };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}
