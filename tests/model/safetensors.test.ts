import { describe, expect, it } from 'vitest';
import {
  headerSize,
  parseHeader,
  parseSafetensors,
  SafetensorsError,
  toF16Bits,
  toFloat32,
  writeSafetensors,
} from '../../src/model/safetensors.ts';
import { f32ToF16Bits } from '../../src/gpu/half.ts';

/** A file with a hand-written header (any JSON text) followed by `dataBytes` zero bytes. */
function rawFile(header: string, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function expectError(fn: () => unknown, pattern: RegExp): SafetensorsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as Error).message).toMatch(pattern);
    return e as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError');
}

const bf16 = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0] >>> 16; // exact for the values used

describe('safetensors write → parse', () => {
  const a = new Float32Array([1, -2.5, 3.25, 0, 1e-3, 7]);
  const file = writeSafetensors(
    [
      { name: 'a', dtype: 'F32', shape: [2, 3], data: a },
      { name: 'h', dtype: 'F16', shape: [3], data: new Uint16Array([0.5, -1, 65504].map(f32ToF16Bits)) },
      { name: 'b', dtype: 'BF16', shape: [2], data: new Uint16Array([bf16(1.5), bf16(-256)]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    ],
    { format: 'pt' },
  );

  it('round-trips values, shapes, dtypes and metadata', () => {
    const { metadata, tensors } = parseSafetensors(file, 'x.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['a', 'h', 'b', 'empty']);
    expect(tensors.get('a')!.shape).toEqual([2, 3]);
    expect(Array.from(toFloat32(tensors.get('a')!))).toEqual(Array.from(a));
    expect(Array.from(toFloat32(tensors.get('h')!))).toEqual([0.5, -1, 65504]);
    expect(Array.from(toFloat32(tensors.get('b')!))).toEqual([1.5, -256]);
    expect(toFloat32(tensors.get('empty')!).length).toBe(0);
    expect(tensors.get('b')!.dtype).toBe('BF16');
  });

  it('converts to f16 bits for upload', () => {
    const { tensors } = parseSafetensors(file.buffer as ArrayBuffer, 'x.safetensors');
    expect(Array.from(toF16Bits(tensors.get('a')!))).toEqual(Array.from(a, f32ToF16Bits));
    expect(Array.from(toF16Bits(tensors.get('b')!))).toEqual([1.5, -256].map(f32ToF16Bits));
    expect(Array.from(toF16Bits(tensors.get('h')!))).toEqual([0.5, -1, 65504].map(f32ToF16Bits));
  });

  it('pads the header so data starts 8-byte aligned; parses the header from a prefix alone', () => {
    const size = headerSize(file.subarray(0, 8), 'x');
    expect(size % 8).toBe(0);
    const header = parseHeader(file.slice(0, size), 'x');
    expect(header.dataStart).toBe(size);
    expect(header.fileSize).toBe(file.length);
    expect(header.tensors.map((t) => [t.name, t.end - t.start])).toEqual([['a', 24], ['h', 6], ['b', 4], ['empty', 0]]);
  });

  it('refuses data that does not match the shape when writing', () => {
    expectError(() => writeSafetensors([{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array(2) }]), /"w".*8 bytes.*needs 12/);
  });
});

describe('safetensors validation errors name the file, the tensor and the problem', () => {
  const good = writeSafetensors([
    { name: 'w1', dtype: 'F32', shape: [4], data: new Float32Array(4) },
    { name: 'w2', dtype: 'F32', shape: [4], data: new Float32Array(4) },
  ]);

  it('truncated file', () => {
    const e = expectError(() => parseSafetensors(good.subarray(0, good.length - 3), 'model.safetensors'), /^model\.safetensors: tensor "w2": truncated/);
    expect(e.file).toBe('model.safetensors');
    expect(e.tensor).toBe('w2');
  });

  it('truncated inside the header', () => {
    expectError(() => parseSafetensors(good.subarray(0, 20), 'm.st'), /m\.st: truncated: header needs/);
    expectError(() => parseSafetensors(good.subarray(0, 5), 'm.st'), /too short/);
  });

  it('trailing bytes', () => {
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expectError(() => parseSafetensors(longer, 'm.st'), /4 trailing bytes/);
  });

  it('bad header length', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
    expectError(() => parseSafetensors(bad, 'm.st'), /header length 1099511627776 is not sane/);
    expectError(() => parseSafetensors(rawFile('{}', 0).subarray(0, 9), 'm.st'), /truncated/);
  });

  it('invalid JSON', () => {
    expectError(() => parseSafetensors(rawFile('{"w": [', 0), 'm.st'), /not valid UTF-8 JSON/);
    expectError(() => parseSafetensors(rawFile('[1, 2]', 0), 'm.st'), /not an object/);
  });

  it('overlapping offsets', () => {
    const header = JSON.stringify({
      w1: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      w2: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
    });
    expectError(() => parseSafetensors(rawFile(header, 24), 'm.st'), /tensor "w2": data_offsets overlap tensor "w1"/);
  });

  it('a gap between tensors', () => {
    const header = JSON.stringify({
      w1: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      w2: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
    });
    expectError(() => parseSafetensors(rawFile(header, 20), 'm.st'), /tensor "w2": 4 unindexed bytes/);
  });

  it('unknown dtype', () => {
    const header = JSON.stringify({ w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } });
    expectError(() => parseSafetensors(rawFile(header, 4), 'm.st'), /tensor "w": unsupported dtype "F8_E4M3"/);
  });

  it('size disagrees with shape × dtype', () => {
    const header = JSON.stringify({ w: { dtype: 'BF16', shape: [3, 2], data_offsets: [0, 8] } });
    expectError(() => parseSafetensors(rawFile(header, 8), 'm.st'), /tensor "w": holds 8 bytes but BF16\[3,2\] needs 12/);
  });

  it('malformed shape and offsets', () => {
    const shape = JSON.stringify({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } });
    expectError(() => parseSafetensors(rawFile(shape, 4), 'm.st'), /tensor "w": shape \[-1\]/);
    const offsets = JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } });
    expectError(() => parseSafetensors(rawFile(offsets, 4), 'm.st'), /tensor "w": data_offsets \[4,0\]/);
  });

  it('integer tensors parse but have no float conversion', () => {
    const header = JSON.stringify({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } });
    const { tensors } = parseSafetensors(rawFile(header, 16), 'm.st');
    expectError(() => toFloat32(tensors.get('ids')!), /m\.st: tensor "ids": dtype I64 is not a float type/);
  });
});
