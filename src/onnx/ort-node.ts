// onnxruntime-web under Node beside the engine: its WebGPU EP finds a GPU through navigator.gpu, which
// Node lacks; we hand it Dawn's GPU object (the engine's), so both run on the same adapter in one process.
// Dawn's queue.writeBuffer rejects views of a SharedArrayBuffer (ORT's threaded WASM heap): ORT's device
// gets a writeBuffer that copies such views first.
import * as ort from 'onnxruntime-web/all';
import { nodeGpuObject } from '../gpu/node.ts';

let ready: Promise<void> | null = null;

/** Call once, before the first session: `threads` is fixed when ORT's WASM runtime starts. */
export function setUpOrtForNode(threads = 1): Promise<void> {
  ready ??= (async () => {
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = 'error';
    const gpu = await nodeGpuObject();
    const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: GPU };
    Object.defineProperty(nav, 'gpu', { value: withCopyingWrites(gpu), configurable: true });
  })();
  return ready;
}

function withCopyingWrites(gpu: GPU): GPU {
  const requestAdapter = async (options?: GPURequestAdapterOptions) => {
    const adapter = await gpu.requestAdapter(options);
    if (!adapter) return adapter;
    const requestDevice = async (descriptor?: GPUDeviceDescriptor) => {
      const device = await adapter.requestDevice(descriptor);
      const queue = device.queue;
      const write = queue.writeBuffer.bind(queue);
      queue.writeBuffer = ((buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset?: number, size?: number) => {
        if (data instanceof SharedArrayBuffer) {
          // ArrayBuffer arguments count in bytes
          const start = dataOffset ?? 0;
          return write(buffer, offset, new Uint8Array(data, start, size ?? data.byteLength - start).slice());
        }
        if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
          // typed-array arguments count in elements
          const unit = data instanceof DataView ? 1 : (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
          const start = (dataOffset ?? 0) * unit;
          const bytes = size === undefined ? data.byteLength - start : size * unit;
          return write(buffer, offset, new Uint8Array(data.buffer, data.byteOffset + start, bytes).slice());
        }
        return write(buffer, offset, data, dataOffset, size);
      }) as GPUQueue['writeBuffer'];
      return device;
    };
    return overriding(adapter, 'requestDevice', requestDevice);
  };
  return overriding(gpu, 'requestAdapter', requestAdapter);
}

/** `target` with one method replaced; every other member read from (and bound to) the native object. */
function overriding<T extends object>(target: T, name: string, replacement: unknown): T {
  return new Proxy(target, {
    get: (t, key) => {
      if (key === name) return replacement;
      const v = Reflect.get(t, key, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}
