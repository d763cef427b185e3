// Node entry to the runtime: Dawn's `webgpu` package, with Chromium's SwiftShader as the Vulkan driver
// when the machine has no GPU driver Dawn accepts. See README "WebGPU without a GPU".
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpuRuntime } from './runtime.ts';
import type { AcquireOptions } from './device.ts';
import type { ShaderSource } from './kernels.ts';

const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const nodeShaderSource: ShaderSource = (name) => {
  const path = join(PROJECT_ROOT, 'shaders', `${name}.wgsl`);
  if (!existsSync(path)) throw new Error(`no shader file ${path}`);
  return readFileSync(path, 'utf8');
};

let gpuPromise: Promise<GPU> | null = null;

async function loadDawn(icd?: string): Promise<GPU> {
  if (icd) process.env.VK_ICD_FILENAMES = icd;
  process.env.XDG_RUNTIME_DIR ??= tmpdir(); // quiets the Vulkan loader's warning on headless machines
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  return create([]) as GPU;
}

/**
 * Dawn reads VK_ICD_FILENAMES when its instance is created, so the choice is made once per process:
 * an explicit VK_ICD_FILENAMES or TOOLN1_GPU=native uses the system's driver; otherwise we try the system
 * driver first and fall back to SwiftShader when it offers no adapter.
 */
async function nodeGpu(): Promise<GPU> {
  if (process.env.VK_ICD_FILENAMES || process.env.TOOLN1_GPU === 'native') return loadDawn();
  const swiftshader = SWIFTSHADER_ICDS.find((p) => existsSync(p));
  if (!swiftshader) return loadDawn();
  // Probe the native driver in a child process: one Dawn instance per process sees one ICD choice.
  const { spawnSync } = await import('node:child_process');
  const probe = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "import {create} from 'webgpu'; const a = await create([]).requestAdapter(); process.exit(a ? 0 : 3);"],
    { cwd: PROJECT_ROOT, stdio: 'ignore', timeout: 20000 },
  );
  return loadDawn(probe.status === 0 ? undefined : swiftshader);
}

/** Dawn's GPU object for this process (also what onnxruntime-web's WebGPU EP is given, see src/onnx/ort-node.ts). */
export function nodeGpuObject(): Promise<GPU> {
  gpuPromise ??= nodeGpu();
  return gpuPromise;
}

export async function createNodeRuntime(opts: AcquireOptions = {}, source: ShaderSource = nodeShaderSource): Promise<GpuRuntime> {
  try {
    return await GpuRuntime.create(await nodeGpuObject(), source, opts);
  } catch (e) {
    const hint = VULKAN_LOADERS.some((p) => existsSync(p))
      ? 'On a machine without a GPU install Debian\'s chromium (its SwiftShader ICD is used automatically).'
      : 'The Vulkan loader libvulkan.so.1 is missing: apt-get install libvulkan1 (and chromium for SwiftShader).';
    throw new Error(`${(e as Error).message}\n${hint}`);
  }
}

/**
 * A runtime on Dawn's null backend: WGSL and pipelines are validated as on a real device, nothing runs. A
 * compile check for the paths this machine's adapter lacks (shader-f16 on SwiftShader); never for results.
 */
export async function createDawnNullRuntime(source: ShaderSource = nodeShaderSource): Promise<GpuRuntime> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  return GpuRuntime.create(create(['backend=null']) as GPU, source);
}

const VULKAN_LOADERS = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];
