// The GPU runtime: device, kernel registry, buffer pool, tensors, batched dispatch, readback, timing.
// One instance per device. Knows nothing of models or React.

import { acquireDevice, GpuDeviceLostError, type AcquireOptions, type GpuInfo } from './device.ts';
import { KernelRegistry, ShaderCompileError, type KernelSpec, type ShaderSource } from './kernels.ts';
import { f16BitsToF32, f32ToF16Bits } from './half.ts';

export type DType = 'f32' | 'f16' | 'u32' | 'i32';

export const BYTES: Record<DType, number> = { f32: 4, f16: 2, u32: 4, i32: 4 };

export class Tensor {
  constructor(
    readonly rt: GpuRuntime,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly buffer: GPUBuffer,
    readonly label: string,
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get byteLength(): number {
    return alignTo4(this.size * BYTES[this.dtype]);
  }

  /** Returns the buffer to the pool; the tensor must not be used afterwards. */
  release(): void {
    this.rt.pool.release(this.buffer);
  }
}

export type TypedData = Float32Array | Uint32Array | Int32Array | Uint16Array;

// GPUBufferUsage / GPUMapMode bit values are fixed by the WebGPU spec; spelled out so this module loads
// before Node's globals are installed.
const STORAGE = {
  storage: 0x80 | 0x4 | 0x8, // STORAGE | COPY_SRC | COPY_DST
  uniform: 0x40 | 0x8, // UNIFORM | COPY_DST
  read: 0x1 | 0x8, // MAP_READ | COPY_DST
  query: 0x200 | 0x4, // QUERY_RESOLVE | COPY_SRC
};
const MAP_READ = 0x1;

function alignTo4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/**
 * Storage buffers recycled by size class. Released buffers wait until the next submit before reuse, so a
 * queue write into a recycled buffer can never overtake a recorded-but-unsubmitted dispatch that reads it.
 * Exact-size buffers (weights: they live as long as their model) skip the size classes and go back to the
 * device once released and submitted.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private live = new Set<GPUBuffer>();
  private exact = new Set<GPUBuffer>();
  bytesAllocated = 0;
  bytesLive = 0;
  /** most bytes ever live at once: what a pool reusing across size classes would need */
  peakBytesLive = 0;
  /** told of every buffer the pool creates (memory accounting by label) */
  onAllocate: ((bytes: number, label: string) => void) | null = null;

  constructor(private device: GPUDevice, private maxBufferSize: number) {}

  static sizeClass(bytes: number): number {
    const b = Math.max(16, alignTo4(bytes));
    if (b <= 4096) return 1 << Math.ceil(Math.log2(b));
    // Above 4 KiB: quarter-power-of-two steps keep waste under 19%.
    const p = 1 << Math.floor(Math.log2(b));
    const step = p / 4;
    return Math.ceil(b / step) * step;
  }

  acquire(bytes: number, label: string, exact = false): GPUBuffer {
    let size = exact ? Math.max(16, alignTo4(bytes)) : BufferPool.sizeClass(bytes);
    if (size > this.maxBufferSize) {
      if (bytes > this.maxBufferSize) {
        throw new Error(
          `tensor "${label}" needs ${bytes} bytes, above this adapter's maxBufferSize ${this.maxBufferSize}`,
        );
      }
      size = alignTo4(bytes);
    }
    let buffer = exact ? undefined : this.free.get(size)?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({ size, usage: STORAGE.storage, label });
      this.bytesAllocated += size;
      this.onAllocate?.(size, label);
      if (exact) this.exact.add(buffer);
    }
    this.live.add(buffer);
    this.bytesLive += size;
    this.peakBytesLive = Math.max(this.peakBytesLive, this.bytesLive);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return;
    this.bytesLive -= buffer.size;
    this.pending.push(buffer);
  }

  /** Called after each submit: released buffers become reusable. */
  recycle(): void {
    for (const b of this.pending) {
      if (this.exact.delete(b)) {
        this.bytesAllocated -= b.size;
        b.destroy();
        continue;
      }
      const list = this.free.get(b.size) ?? [];
      list.push(b);
      this.free.set(b.size, list);
    }
    this.pending = [];
  }

  /** Frees every idle buffer back to the driver. */
  trim(): void {
    this.recycle();
    for (const list of this.free.values()) for (const b of list) {
      this.bytesAllocated -= b.size;
      b.destroy();
    }
    this.free.clear();
  }
}

/** Per-dispatch uniform parameters live in 64 KiB chunks written once per submit. */
const UNIFORM_CHUNK = 65536;

class UniformArena {
  private chunks: { buffer: GPUBuffer; data: Uint8Array }[] = [];
  private chunk = 0;
  private offset = 0;

  constructor(private device: GPUDevice, private align: number) {}

  push(params: ArrayBuffer | ArrayBufferView): GPUBufferBinding {
    const bytes = params instanceof ArrayBuffer ? new Uint8Array(params) : new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
    const size = Math.max(16, alignTo4(bytes.byteLength));
    if (this.offset + size > UNIFORM_CHUNK) {
      this.chunk++;
      this.offset = 0;
    }
    if (this.chunk === this.chunks.length) {
      this.chunks.push({
        buffer: this.device.createBuffer({ size: UNIFORM_CHUNK, usage: STORAGE.uniform, label: 'uniform-arena' }),
        data: new Uint8Array(UNIFORM_CHUNK),
      });
    }
    const c = this.chunks[this.chunk];
    c.data.set(bytes, this.offset);
    const binding = { buffer: c.buffer, offset: this.offset, size };
    this.offset = Math.ceil((this.offset + size) / this.align) * this.align;
    return binding;
  }

  /** Uploads the used part of every chunk; must precede the submit that reads them. */
  flush(queue: GPUQueue): void {
    for (let i = 0; i <= this.chunk && i < this.chunks.length; i++) {
      const used = i < this.chunk ? UNIFORM_CHUNK : this.offset;
      if (used > 0) queue.writeBuffer(this.chunks[i].buffer, 0, this.chunks[i].data, 0, alignTo4(used));
    }
    this.chunk = 0;
    this.offset = 0;
  }

  get bytes(): number {
    return this.chunks.length * UNIFORM_CHUNK;
  }
}

export interface Dispatch {
  kernel: KernelSpec;
  /** Storage buffers bound at @binding(0..n-1) of @group(0), in order; null skips a binding the entry point does not use. */
  buffers: (Tensor | GPUBuffer | null)[];
  /** Optional uniform block bound right after the storage buffers. */
  params?: ArrayBuffer | ArrayBufferView;
  workgroups: [number, number?, number?];
}

export interface KernelTiming {
  calls: number;
  ms: number;
}

const MAX_TIMED_DISPATCHES = 2048;
/** Bind groups kept for reuse: a decode step repeats the last one's dispatches with the same buffers. */
const MAX_CACHED_BIND_GROUPS = 8192;

export class GpuRuntime {
  readonly kernels: KernelRegistry;
  readonly pool: BufferPool;
  private uniforms: UniformArena;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private lostError: GpuDeviceLostError | null = null;
  private firstError: string | null = null;
  private lostListeners: ((e: GpuDeviceLostError) => void)[] = [];
  // Timestamp profiling (only when the adapter has timestamp-query and profiling is on).
  private profiling = false;
  private querySet: GPUQuerySet | null = null;
  private timedNames: string[] = [];
  readonly timings = new Map<string, KernelTiming>();
  private pendingTimingReads: Promise<void>[] = [];
  /** A tiny buffer bound where a kernel's optional input is absent (a bias-free linear, say). */
  readonly placeholder: GPUBuffer;
  private bindGroups = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private pipelineIds = new WeakMap<GPUComputePipeline, number>();
  private nextId = 0;
  /** readback buffers by size, reused: a decode step reads the same few bytes every time */
  private staging = new Map<number, GPUBuffer[]>();
  /** set by kernelsOf: dispatches are collected, nothing is recorded */
  private collected: KernelSpec[] | null = null;

  private constructor(readonly device: GPUDevice, readonly info: GpuInfo, source: ShaderSource) {
    this.kernels = new KernelRegistry(device, source);
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.uniforms = new UniformArena(device, device.limits.minUniformBufferOffsetAlignment);
    this.placeholder = device.createBuffer({ size: 256, usage: STORAGE.storage, label: 'placeholder' });
    device.lost.then((info) => {
      this.lostError = new GpuDeviceLostError(info.reason ?? 'unknown', info.message);
      for (const l of this.lostListeners) l(this.lostError);
    });
    device.addEventListener('uncapturederror', (ev) => {
      const msg = (ev as GPUUncapturedErrorEvent).error.message;
      if (this.firstError === null) this.firstError = msg;
    });
  }

  static async create(gpu: GPU | undefined, source: ShaderSource, opts: AcquireOptions = {}): Promise<GpuRuntime> {
    const { device, info } = await acquireDevice(gpu, opts);
    return new GpuRuntime(device, info, source);
  }

  /** Called with the error when the device is lost (driver reset, destroy(), tab hidden too long...). */
  onLost(listener: (e: GpuDeviceLostError) => void): void {
    this.lostListeners.push(listener);
    if (this.lostError) listener(this.lostError);
  }

  get lost(): boolean {
    return this.lostError !== null;
  }

  private assertAlive(): void {
    if (this.lostError) throw this.lostError;
  }

  // ---- tensors ---------------------------------------------------------------------------------

  /** `exact`: a buffer of exactly the tensor's size, outside the pool's size classes (weights). */
  empty(shape: readonly number[], dtype: DType = 'f32', label = 'tensor', exact = false): Tensor {
    this.assertAlive();
    // With nothing recorded, every released buffer is free to reuse now: no recorded dispatch can read it.
    if (!this.encoder) this.pool.recycle();
    const n = shape.reduce((a, b) => a * b, 1);
    const buffer = this.pool.acquire(n * BYTES[dtype], label, exact);
    return new Tensor(this, shape, dtype, buffer, label);
  }

  /** A tensor initialised from host data (f16 tensors take a Float32Array and convert). */
  upload(shape: readonly number[], data: TypedData | number[], dtype: DType = 'f32', label = 'tensor', exact = false): Tensor {
    const t = this.empty(shape, dtype, label, exact);
    this.write(t, data);
    return t;
  }

  write(t: Tensor, data: TypedData | number[], elementOffset = 0): void {
    this.assertAlive();
    // A queue write runs before anything still unsubmitted: flush first so ordering matches program order.
    if (this.pendingDispatches > 0) this.submit();
    const host = toHost(data, t.dtype);
    if (elementOffset + (host.byteLength / BYTES[t.dtype]) > t.size) {
      throw new Error(`write of ${host.byteLength} bytes overruns tensor "${t.label}" [${t.shape}]`);
    }
    const padded = host.byteLength % 4 === 0 ? host : padTo4(host);
    this.device.queue.writeBuffer(t.buffer, elementOffset * BYTES[t.dtype], padded.buffer, padded.byteOffset, padded.byteLength);
  }

  /** Zero-fills a tensor on the GPU (recorded in order with dispatches). */
  zero(t: Tensor): void {
    if (this.collected) return;
    this.encoderNow();
    this.endPass();
    this.encoder!.clearBuffer(t.buffer, 0, t.byteLength);
    this.pendingDispatches++;
  }

  /** Records a buffer-to-buffer copy in order with dispatches. */
  copy(src: Tensor, dst: Tensor, srcElem = 0, dstElem = 0, elems = src.size): void {
    if (src.dtype !== dst.dtype) throw new Error(`copy ${src.dtype} → ${dst.dtype}`);
    const b = BYTES[src.dtype];
    if ((srcElem * b) % 4 || (dstElem * b) % 4 || (elems * b) % 4) throw new Error('copy must be 4-byte aligned');
    if (this.collected) return;
    this.encoderNow();
    this.endPass();
    this.encoder!.copyBufferToBuffer(src.buffer, srcElem * b, dst.buffer, dstElem * b, elems * b);
    this.pendingDispatches++;
  }

  // ---- dispatch --------------------------------------------------------------------------------

  private encoderNow(): GPUCommandEncoder {
    this.assertAlive();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Records one dispatch into the current command encoder; nothing runs until submit() or read(). */
  dispatch(d: Dispatch): void {
    if (this.collected) {
      this.collected.push(d.kernel);
      return;
    }
    const pipeline = this.kernels.pipeline(d.kernel);
    const bindGroup = this.bindGroup(pipeline, d);
    const enc = this.encoderNow();
    const [x, y = 1, z = 1] = d.workgroups;
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new Error(`${d.kernel.shader}: dispatch ${x}×${y}×${z} exceeds maxComputeWorkgroupsPerDimension ${maxDim}`);
    }
    if (this.profiling && this.querySet && this.timedNames.length < MAX_TIMED_DISPATCHES) {
      this.endPass();
      const i = this.timedNames.length;
      this.timedNames.push(`${d.kernel.shader}.${d.kernel.entry}`);
      const pass = enc.beginComputePass({
        timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
    } else {
      if (!this.pass) this.pass = enc.beginComputePass();
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(x, y, z);
    }
    this.pendingDispatches++;
  }

  private idOf<T extends object>(ids: WeakMap<T, number>, o: T): number {
    let id = ids.get(o);
    if (id === undefined) ids.set(o, (id = this.nextId++));
    return id;
  }

  /** The dispatch's bind group: cached by pipeline, buffers and uniform slot, so repeated steps create none. */
  private bindGroup(pipeline: GPUComputePipeline, d: Dispatch): GPUBindGroup {
    const buffers = d.buffers.map((b) => (b instanceof Tensor ? b.buffer : b));
    const uniform = d.params ? this.uniforms.push(d.params) : null;
    let key = `${this.idOf(this.pipelineIds, pipeline)}`;
    for (const b of buffers) key += b ? `,${this.idOf(this.bufferIds, b)}` : ',-';
    if (uniform) key += `|${this.idOf(this.bufferIds, uniform.buffer)}@${uniform.offset}+${uniform.size}`;
    const cached = this.bindGroups.get(key);
    if (cached) return cached;
    const entries: GPUBindGroupEntry[] = [];
    buffers.forEach((b, i) => {
      if (b) entries.push({ binding: i, resource: { buffer: b } });
    });
    if (uniform) entries.push({ binding: buffers.length, resource: uniform });
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
    this.bindGroups.set(key, group);
    return group;
  }

  /**
   * The kernels `record` would dispatch, without recording anything (copies and zero-fills are skipped too;
   * tensors it allocates are real). With prepareKernels, compiles a model's pipelines before its first use.
   */
  kernelsOf(record: () => void): KernelSpec[] {
    this.collected = [];
    try {
      record();
      return this.collected;
    } finally {
      this.collected = null;
    }
  }

  /** Compiles these kernels' pipelines now (in parallel where the driver can), with progress. */
  prepareKernels(specs: KernelSpec[], onProgress?: (done: number, total: number) => void): Promise<void> {
    return this.kernels.prepare(specs, onProgress);
  }

  /** Submits everything recorded so far as one command buffer. */
  submit(): void {
    if (!this.encoder) {
      this.pool.recycle(); // nothing unsubmitted can read a released buffer
      return;
    }
    this.assertAlive();
    this.endPass();
    const readTimings = this.profiling && this.querySet && this.timedNames.length > 0 ? this.resolveTimings(this.encoder) : null;
    this.uniforms.flush(this.device.queue);
    this.device.queue.submit([this.encoder.finish()]);
    readTimings?.(); // mapAsync only after the submit: a buffer pending map may not be used in one
    this.encoder = null;
    this.pendingDispatches = 0;
    this.pool.recycle();
  }

  /** Waits for all submitted work, surfacing device loss and validation/compile errors. */
  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    await this.raiseErrors();
  }

  private async raiseErrors(): Promise<void> {
    this.assertAlive();
    if (this.firstError !== null) {
      const msg = this.firstError;
      this.firstError = null;
      await this.kernels.checkCompilation(); // throws with file:line when a shader is at fault
      throw new ShaderCompileError(`WebGPU error: ${msg}`);
    }
  }

  /** Copies a tensor (or a slice of elements) to the host. Submits pending work first. */
  async read(t: Tensor, elemOffset = 0, elems = t.size - elemOffset): Promise<Float32Array | Uint32Array | Int32Array> {
    const b = BYTES[t.dtype];
    const byteOffset = Math.floor((elemOffset * b) / 4) * 4;
    const byteEnd = alignTo4((elemOffset + elems) * b);
    const bytes = byteEnd - byteOffset;
    const size = BufferPool.sizeClass(bytes);
    const staging = this.staging.get(size)?.pop() ?? this.device.createBuffer({ size, usage: STORAGE.read, label: 'readback' });
    const enc = this.encoderNow();
    this.endPass();
    enc.copyBufferToBuffer(t.buffer, byteOffset, staging, 0, bytes);
    this.submit();
    try {
      await staging.mapAsync(MAP_READ, 0, bytes);
    } catch (e) {
      this.assertAlive();
      throw e;
    }
    const raw = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    if (size <= 1 << 20) {
      const list = this.staging.get(size) ?? [];
      list.push(staging);
      this.staging.set(size, list);
    } else {
      staging.destroy(); // large one-off reads (logits, checkpoints) give their memory back
    }
    await this.raiseErrors();
    const skip = elemOffset * b - byteOffset;
    if (t.dtype === 'f16') {
      const bits = new Uint16Array(raw, skip, elems);
      const out = new Float32Array(elems);
      for (let i = 0; i < elems; i++) out[i] = f16BitsToF32(bits[i]);
      return out;
    }
    if (t.dtype === 'u32') return new Uint32Array(raw, skip, elems);
    if (t.dtype === 'i32') return new Int32Array(raw, skip, elems);
    return new Float32Array(raw, skip, elems);
  }

  // ---- timing ----------------------------------------------------------------------------------

  /** Per-kernel GPU timing with timestamp queries; false when the adapter lacks them. */
  setProfiling(on: boolean): boolean {
    if (on && !this.info.timestamps) return false;
    this.profiling = on;
    if (on && !this.querySet) {
      this.querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * MAX_TIMED_DISPATCHES });
    }
    return on;
  }

  /** Records the query resolve into `enc`; the returned function (call it after the submit) reads it back. */
  private resolveTimings(enc: GPUCommandEncoder): () => void {
    const n = this.timedNames.length;
    const names = this.timedNames;
    this.timedNames = [];
    const resolve = this.device.createBuffer({ size: 16 * n, usage: STORAGE.query });
    const staging = this.device.createBuffer({ size: 16 * n, usage: STORAGE.read });
    enc.resolveQuerySet(this.querySet!, 0, 2 * n, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, staging, 0, 16 * n);
    return () => this.pendingTimingReads.push(
      (async () => {
        await staging.mapAsync(MAP_READ);
        const t = new BigUint64Array(staging.getMappedRange().slice(0));
        staging.unmap();
        staging.destroy();
        resolve.destroy();
        for (let i = 0; i < n; i++) {
          const ms = Number(t[2 * i + 1] - t[2 * i]) / 1e6;
          const rec = this.timings.get(names[i]) ?? { calls: 0, ms: 0 };
          rec.calls++;
          if (ms > 0 && ms < 1e6) rec.ms += ms;
          this.timings.set(names[i], rec);
        }
      })(),
    );
  }

  /** Waits for outstanding timing reads and returns per-kernel totals. */
  async kernelTimings(): Promise<Map<string, KernelTiming>> {
    this.submit();
    await Promise.all(this.pendingTimingReads);
    this.pendingTimingReads = [];
    return this.timings;
  }

  // ---- accounting and teardown -----------------------------------------------------------------

  /** Bytes this runtime holds on the GPU (pooled storage plus uniform arena). */
  get bytesHeld(): number {
    return this.pool.bytesAllocated + this.uniforms.bytes;
  }

  destroy(): void {
    this.pool.trim();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
    this.bindGroups.clear();
    this.device.destroy();
  }
}

function toHost(data: TypedData | number[], dtype: DType): Uint8Array {
  if (dtype === 'f16') {
    if (data instanceof Uint16Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const out = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = f32ToF16Bits(data[i]);
    return new Uint8Array(out.buffer);
  }
  let typed: TypedData;
  if (Array.isArray(data)) typed = dtype === 'f32' ? new Float32Array(data) : dtype === 'u32' ? new Uint32Array(data) : new Int32Array(data);
  else typed = data;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function padTo4(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(alignTo4(b.byteLength));
  out.set(b);
  return out;
}
