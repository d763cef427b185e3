// A null WebGPU device, as tinygrad's NULL device: buffers are created with their sizes and labels, pipelines,
// bind groups and command encoders are accepted, and nothing runs (no shader is compiled, reads return zeros).
// GpuRuntime on it allocates exactly what it allocates on a real device, in the same order, so the runtime's
// own accounting (rt.bytesHeld, rt.pool) gives the GPU memory of any engine code in seconds, without a GPU.
// It implements only the part of the WebGPU API the runtime uses. Never use it to test results: only memory.

export interface NullGpuOptions {
  /** adapter features to report (e.g. 'shader-f16' so that frozen weights are f16) */
  features?: string[];
  /** limits over the WebGPU defaults below (maxBufferSize, minUniformBufferOffsetAlignment, ...) */
  limits?: Record<string, number>;
}

/** The WebGPU spec's default limits (the ones the runtime reads), with a 2 GiB buffer as on desktop GPUs. */
const DEFAULT_LIMITS: Record<string, number> = {
  maxBufferSize: 2 ** 31,
  maxStorageBufferBindingSize: 2 ** 31,
  maxStorageBuffersPerShaderStage: 10,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupsPerDimension: 65535,
  minUniformBufferOffsetAlignment: 256,
  minStorageBufferOffsetAlignment: 256,
};

class NullBuffer {
  constructor(readonly size: number, readonly usage: number, readonly label: string) {}
  mapAsync(): Promise<void> {
    return Promise.resolve();
  }
  getMappedRange(): ArrayBuffer {
    return new ArrayBuffer(this.size);
  }
  unmap(): void {}
  destroy(): void {}
}

class NullPass {
  setPipeline(): void {}
  setBindGroup(): void {}
  dispatchWorkgroups(): void {}
  end(): void {}
}

class NullEncoder {
  beginComputePass(): NullPass {
    return new NullPass();
  }
  clearBuffer(): void {}
  copyBufferToBuffer(): void {}
  resolveQuerySet(): void {}
  finish(): object {
    return {};
  }
}

const NULL_PIPELINE = { getBindGroupLayout: () => ({}) };
const NULL_MODULE = { getCompilationInfo: () => Promise.resolve({ messages: [] }) };

class NullDevice {
  readonly queue = {
    writeBuffer: (): void => {},
    submit: (): void => {},
    onSubmittedWorkDone: (): Promise<void> => Promise.resolve(),
  };
  /** never resolves: a null device is never lost */
  readonly lost = new Promise<never>(() => {});

  constructor(readonly features: Set<string>, readonly limits: Record<string, number>) {}

  createBuffer(d: { size: number; usage: number; label?: string }): NullBuffer {
    return new NullBuffer(d.size, d.usage, d.label ?? '');
  }
  createShaderModule(): object {
    return NULL_MODULE;
  }
  createComputePipeline(): object {
    return NULL_PIPELINE;
  }
  createComputePipelineAsync(): Promise<object> {
    return Promise.resolve(NULL_PIPELINE);
  }
  createBindGroup(): object {
    return {};
  }
  createCommandEncoder(): NullEncoder {
    return new NullEncoder();
  }
  createQuerySet(): object {
    return { destroy() {} };
  }
  addEventListener(): void {}
  destroy(): void {}
}

/** A `navigator.gpu` whose one adapter gives null devices; pass it to GpuRuntime.create. */
export function nullGpu(opts: NullGpuOptions = {}): GPU {
  const features = new Set(opts.features ?? []);
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const adapter = {
    features,
    limits,
    info: { vendor: 'null', architecture: 'null', device: 'null device (no work done)', description: 'memory accounting only' },
    requestDevice: async () => new NullDevice(features, limits),
  };
  return { requestAdapter: async () => adapter } as unknown as GPU;
}
