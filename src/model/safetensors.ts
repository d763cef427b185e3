// Safetensors: 8-byte little-endian header length N, N bytes of JSON header, then the data section.
// Header: { "__metadata__"?: {str: str}, name: { dtype, shape, data_offsets: [begin, end] } }, offsets
// relative to the data section. Parsing is strict like the reference implementation (tensors must tile the
// data section exactly) because a model file that is off by one byte is corrupt, not "mostly fine".
// Browser-safe: no node: imports.

import { bf16BitsToF32, f16BitsToF32, f32ToF16Bits } from '../gpu/half.ts';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

export const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };

// The reference implementation refuses headers above 100 MB; a real 0.5B header is ~30 KB.
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    readonly tensor: string | undefined,
    problem: string,
  ) {
    super(tensor === undefined ? `${file}: ${problem}` : `${file}: tensor "${tensor}": ${problem}`);
    this.name = 'SafetensorsError';
  }
}

/** Where one tensor lives: absolute byte range [start, end) within the file. */
export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  start: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  metadata: Record<string, string>;
  /** In file order (sorted by offset). */
  tensors: TensorEntry[];
  /** 8 + JSON length: where the data section begins. */
  dataStart: number;
  /** Exact size the whole file must have. */
  fileSize: number;
}

/** A tensor as a view into its file's bytes (no copy). */
export interface TensorView {
  name: string;
  file: string;
  dtype: SafetensorsDType;
  shape: number[];
  bytes: Uint8Array;
}

function asBytes(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Bytes needed before the header can be parsed (8 + JSON length), from the first 8 bytes of the file.
 * Lets a streamed download validate the header before the weights arrive.
 */
export function headerSize(firstBytes: ArrayBuffer | Uint8Array, file: string): number {
  const bytes = asBytes(firstBytes);
  if (bytes.length < 8) throw new SafetensorsError(file, undefined, `file is ${bytes.length} bytes, too short for a header`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, undefined, `header length ${n} is not sane (expected 2..${MAX_HEADER_BYTES}); not a safetensors file?`);
  }
  return 8 + Number(n);
}

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.hasOwn(DTYPE_BYTES, s);
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Parses and validates the header from (at least) the first headerSize() bytes of the file. */
export function parseHeader(firstBytes: ArrayBuffer | Uint8Array, file: string): SafetensorsHeader {
  const bytes = asBytes(firstBytes);
  const dataStart = headerSize(bytes, file);
  if (bytes.length < dataStart) {
    throw new SafetensorsError(file, undefined, `truncated: header needs ${dataStart} bytes, have ${bytes.length}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    throw new SafetensorsError(file, undefined, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError(file, undefined, 'header JSON is not an object');
  }

  let metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string')) {
        throw new SafetensorsError(file, undefined, '__metadata__ must map strings to strings');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) throw new SafetensorsError(file, name, 'entry is not an object');
    if (!isDType(info.dtype)) {
      throw new SafetensorsError(file, name, `unsupported dtype ${JSON.stringify(info.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(info.shape) || !info.shape.every(isNonNegInt)) {
      throw new SafetensorsError(file, name, `shape ${JSON.stringify(info.shape)} is not a list of non-negative integers`);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || offsets[1] < offsets[0]) {
      throw new SafetensorsError(file, name, `data_offsets ${JSON.stringify(offsets)} is not [begin, end] with begin <= end`);
    }
    const expected = numel(info.shape) * DTYPE_BYTES[info.dtype];
    if (offsets[1] - offsets[0] !== expected) {
      throw new SafetensorsError(file, name, `holds ${offsets[1] - offsets[0]} bytes but ${info.dtype}${JSON.stringify(info.shape)} needs ${expected}`);
    }
    tensors.push({ name, dtype: info.dtype, shape: info.shape, start: dataStart + offsets[0], end: dataStart + offsets[1] });
  }

  // Tensors must tile the data section: sorted by offset, each begins where the previous one ended.
  tensors.sort((a, b) => a.start - b.start || a.end - b.end);
  let cursor = dataStart;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    if (t.start < cursor) throw new SafetensorsError(file, t.name, `data_offsets overlap tensor "${tensors[i - 1].name}"`);
    if (t.start > cursor) throw new SafetensorsError(file, t.name, `${t.start - cursor} unindexed bytes before this tensor`);
    cursor = t.end;
  }
  return { file, metadata, tensors, dataStart, fileSize: cursor };
}

/** Parses a whole safetensors file; tensors are views into `data`. */
export function parseSafetensors(
  data: ArrayBuffer | Uint8Array,
  file: string,
): { metadata: Record<string, string>; tensors: Map<string, TensorView> } {
  const bytes = asBytes(data);
  const header = parseHeader(bytes, file);
  if (bytes.length < header.fileSize) {
    const last = header.tensors.find((t) => t.end > bytes.length);
    throw new SafetensorsError(file, last?.name, `truncated: file is ${bytes.length} bytes, header describes ${header.fileSize}`);
  }
  if (bytes.length > header.fileSize) {
    throw new SafetensorsError(file, undefined, `${bytes.length - header.fileSize} trailing bytes after the last tensor`);
  }
  const tensors = new Map<string, TensorView>();
  for (const t of header.tensors) {
    tensors.set(t.name, { name: t.name, file, dtype: t.dtype, shape: t.shape, bytes: bytes.subarray(t.start, t.end) });
  }
  return { metadata: header.metadata, tensors };
}

// Typed views need aligned offsets; fall back to a copy when the data is not aligned.
// (new Uint8Array(bytes) copies; bytes.slice() would not for a Node Buffer.)
function view16(bytes: Uint8Array): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return new Uint16Array(new Uint8Array(bytes).buffer);
}

function view32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

function requireFloat(t: TensorView): void {
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
    throw new SafetensorsError(t.file, t.name, `dtype ${t.dtype} is not a float type`);
  }
}

/** The tensor as f32. F32 data comes back as a view into the file (do not mutate); F16/BF16 are converted. */
export function toFloat32(t: TensorView): Float32Array {
  requireFloat(t);
  if (t.dtype === 'F32') return view32(t.bytes);
  const src = view16(t.bytes);
  const out = new Float32Array(src.length);
  const convert = t.dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32;
  for (let i = 0; i < src.length; i++) out[i] = convert(src[i]);
  return out;
}

/**
 * The first NaN or ±Inf of a float tensor, found from the exponent bits (all ones), or null. Fast enough to
 * run over every weight at load time: a 0.5B model in well under a second.
 */
export function firstNonFinite(t: TensorView): { index: number; value: string } | null {
  requireFloat(t);
  const wide = t.dtype === 'F32';
  const f32 = wide ? view32(t.bytes) : null;
  const words = f32 ? new Uint32Array(f32.buffer, f32.byteOffset, f32.length) : view16(t.bytes);
  const exponent = wide ? 0x7f800000 : t.dtype === 'F16' ? 0x7c00 : 0x7f80;
  const mantissa = wide ? 0x007fffff : t.dtype === 'F16' ? 0x03ff : 0x007f;
  const sign = wide ? 0x80000000 : 0x8000;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if ((w & exponent) === exponent) {
      const value = (w & mantissa) !== 0 ? 'NaN' : (w & sign) !== 0 ? '-Infinity' : 'Infinity';
      return { index: i, value };
    }
  }
  return null;
}

/** The tensor as IEEE f16 bits for an f16 GPU upload. F16 data comes back as a view (do not mutate). */
export function toF16Bits(t: TensorView): Uint16Array {
  requireFloat(t);
  if (t.dtype === 'F16') return view16(t.bytes);
  const out = new Uint16Array(t.bytes.length / DTYPE_BYTES[t.dtype]);
  if (t.dtype === 'F32') {
    const src = view32(t.bytes);
    for (let i = 0; i < out.length; i++) out[i] = f32ToF16Bits(src[i]);
  } else {
    const src = view16(t.bytes); // BF16, converted element by element: no f32 copy of a 136M-row embedding
    for (let i = 0; i < out.length; i++) out[i] = f32ToF16Bits(bf16BitsToF32(src[i]));
  }
  return out;
}

/** F32 takes a Float32Array; F16 / BF16 take their raw 16-bit patterns. */
export type WritableTensor =
  | { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }
  | { name: string; dtype: 'F16' | 'BF16'; shape: number[]; data: Uint16Array };

/** Serialises tensors in the given order; the header is space-padded to 8 bytes so the data stays aligned. */
export function writeSafetensors(tensors: WritableTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || Object.hasOwn(header, t.name)) {
      throw new SafetensorsError('(writing)', t.name, 'duplicate or reserved tensor name');
    }
    const size = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== size) {
      throw new SafetensorsError('(writing)', t.name, `data has ${t.data.byteLength} bytes, ${t.dtype}${JSON.stringify(t.shape)} needs ${size}`);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.fill(0x20, 8, 8 + padded);
  out.set(json, 8);
  let at = 8 + padded;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
