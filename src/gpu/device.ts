// Adapter and device acquisition, shared by the browser, the Worker and Node.
// The caller passes a GPU object (navigator.gpu or Dawn's), so this file imports nothing platform-specific.

export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
  /** Optional features we asked for and got. */
  f16: boolean;
  subgroups: boolean;
  /** the adapter's largest subgroup (0 when it does not say) */
  subgroupMaxSize: number;
  timestamps: boolean;
}

export class GpuUnavailableError extends Error {}

export class GpuDeviceLostError extends Error {
  constructor(public readonly reason: string, message: string) {
    super(`GPU device lost (${reason}): ${message || 'no message'}. Re-create the runtime to continue.`);
  }
}

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[];

/** Limits we raise to the adapter's maximum: big weight tensors and wide workgroups need them. */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for no optional features (to test the plain f32 path on any adapter). */
  disableFeatures?: string[];
}

export async function acquireDevice(gpu: GPU | undefined, opts: AcquireOptions = {}): Promise<{ device: GPUDevice; info: GpuInfo }> {
  if (!gpu) {
    throw new GpuUnavailableError(
      'WebGPU is not available: navigator.gpu is missing. Use a recent Chrome or Edge (or Chromium with ' +
        '--enable-unsafe-webgpu), served over http://localhost or https.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError(
      'WebGPU is present but no adapter was found. Enable hardware acceleration, or start Chromium with ' +
        '--enable-unsafe-webgpu (on Linux also --enable-features=Vulkan).',
    );
  }
  const disabled = new Set(opts.disableFeatures ?? []);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const ai = adapter.info ?? ({} as GPUAdapterInfo);
  const limits: Record<string, number> = {};
  for (const key in device.limits) {
    const v = (device.limits as unknown as Record<string, number>)[key];
    if (typeof v === 'number') limits[key] = v;
  }
  const features = [...device.features].sort();
  return {
    device,
    info: {
      vendor: ai.vendor ?? '',
      architecture: ai.architecture ?? '',
      device: ai.device ?? '',
      description: ai.description ?? '',
      features,
      limits,
      f16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups' as GPUFeatureName),
      subgroupMaxSize: (ai as { subgroupMaxSize?: number }).subgroupMaxSize ?? 0,
      timestamps: device.features.has('timestamp-query'),
    },
  };
}
