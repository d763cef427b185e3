// Kernel registry: WGSL from shaders/*.wgsl, compiled once per (shader, header, entry, constants),
// pipelines cached. Compile errors are reported against the .wgsl file's own line numbers.

/** Looks up the text of `shaders/<name>.wgsl`. Bundled (Vite) in the browser, read from disk in Node. */
export type ShaderSource = (name: string) => string;

export interface KernelSpec {
  /** File name in shaders/ without the extension. */
  shader: string;
  entry?: string;
  /** WGSL `override` constants. */
  constants?: Record<string, number>;
  /** `alias NAME = TYPE;` lines prepended to the file (e.g. the weight element type). */
  aliases?: Record<string, string>;
  /** `enable X;` directives prepended (f16, subgroups). */
  enables?: string[];
}

export class ShaderCompileError extends Error {}

export class KernelRegistry {
  private pipelines = new Map<string, GPUComputePipeline>();
  private modules = new Map<string, GPUShaderModule>();

  constructor(private device: GPUDevice, private source: ShaderSource) {}

  get size(): number {
    return this.pipelines.size;
  }

  pipeline(spec: KernelSpec): GPUComputePipeline {
    const key = specKey(spec);
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const module = this.module(spec);
    const constants = spec.constants && Object.keys(spec.constants).length ? spec.constants : undefined;
    const pipeline = this.device.createComputePipeline({
      label: `${spec.shader}:${spec.entry ?? 'main'}`,
      layout: 'auto',
      compute: { module, entryPoint: spec.entry ?? 'main', constants },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  /** Compiles (or fetches) a module and throws with file:line on any WGSL error. */
  private module(spec: KernelSpec): GPUShaderModule {
    const header = headerFor(spec);
    const key = `${spec.shader}|${header}`;
    const cached = this.modules.get(key);
    if (cached) return cached;
    const code = header + this.source(spec.shader);
    const module = this.device.createShaderModule({ label: `shaders/${spec.shader}.wgsl`, code });
    this.modules.set(key, module);
    return module;
  }

  /** Awaits compilation messages of every module compiled so far; throws on the first error. */
  async checkCompilation(): Promise<void> {
    for (const [key, module] of this.modules) {
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length === 0) continue;
      const shader = key.split('|')[0];
      const headerLines = key.slice(shader.length + 1).split('\n').length - 1;
      const lines = errors.map(
        (m) => `shaders/${shader}.wgsl:${m.lineNum - headerLines}:${m.linePos}: error: ${m.message}`,
      );
      this.modules.delete(key);
      for (const k of [...this.pipelines.keys()]) if (k.startsWith(`${shader}|`)) this.pipelines.delete(k);
      throw new ShaderCompileError(lines.join('\n'));
    }
  }
}

function headerFor(spec: KernelSpec): string {
  let h = '';
  for (const e of spec.enables ?? []) h += `enable ${e};\n`;
  for (const [name, type] of Object.entries(spec.aliases ?? {})) h += `alias ${name} = ${type};\n`;
  return h;
}

function specKey(spec: KernelSpec): string {
  const c = spec.constants ? Object.entries(spec.constants).sort().map(([k, v]) => `${k}=${v}`).join(',') : '';
  return `${spec.shader}|${headerFor(spec)}|${spec.entry ?? 'main'}|${c}`;
}
