// onnxruntime-web under Node beside the engine: its WebGPU EP finds a GPU through navigator.gpu, which
// Node lacks; we hand it Dawn's GPU object (the engine's), so both run on the same adapter in one process.
// Dawn's queue.writeBuffer rejects a SharedArrayBuffer and views of one (ORT's WASM heap is shared): the
// queue's writeBuffer copies such data first. Dawn hands out a new queue wrapper per access, so the
// method is replaced on the prototype (other data passes through untouched).
// The full build starts no WASM threads under Node (it fetches its worker script): the WASM EP runs on 1 thread.
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
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    const adapter = await gpu.requestAdapter();
    const device = await adapter?.requestDevice();
    if (!device) return;
    copySharedWrites(Object.getPrototypeOf(device.queue) as GPUQueue);
    // Dawn's Node binding delivers ORT's mapAsync results only while the instance is being ticked: a
    // queue call every few ms keeps events flowing (unref'd: it never keeps the process alive).
    setInterval(() => void device.queue.onSubmittedWorkDone(), 5).unref();
  })();
  return ready;
}

type Write = (buffer: GPUBuffer, offset: number, data: unknown, dataOffset?: number, size?: number) => void;

function copySharedWrites(proto: GPUQueue): void {
  const original = proto.writeBuffer as unknown as Write;
  const patched: Write = function (this: GPUQueue, buffer, offset, data, dataOffset, size) {
    const write = (...args: unknown[]) => (original as (...a: unknown[]) => void).apply(this, [buffer, offset, ...args]);
    if (data instanceof SharedArrayBuffer) {
      const start = dataOffset ?? 0; // counted in bytes for an ArrayBuffer
      return write(new Uint8Array(data, start, size ?? data.byteLength - start).slice());
    }
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const unit = 'BYTES_PER_ELEMENT' in data ? (data.BYTES_PER_ELEMENT as number) : 1; // counted in elements
      const start = (dataOffset ?? 0) * unit;
      return write(new Uint8Array(data.buffer, data.byteOffset + start, size === undefined ? data.byteLength - start : size * unit).slice());
    }
    // Dawn's overloads reject explicit undefined arguments
    return size !== undefined ? write(data, dataOffset ?? 0, size) : dataOffset !== undefined ? write(data, dataOffset) : write(data);
  };
  if ((proto.writeBuffer as unknown) !== patched) proto.writeBuffer = patched as unknown as GPUQueue['writeBuffer'];
}
