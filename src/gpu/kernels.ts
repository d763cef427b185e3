// Kernel registry: WGSL from shaders/*.wgsl, compiled once per (shader, header, includes, entry, constants),
// pipelines cached. Compile errors are reported against the .wgsl files' own line numbers.

/** Looks up the text of `shaders/<name>.wgsl`. Bundled (Vite) in the browser, read from disk in Node. */
export type ShaderSource = (name: string) => string;

export interface KernelSpec {
  /** File name in shaders/ without the extension. */
  shader: string;
  entry: string;
  /** WGSL `override` constants. */
  constants?: Record<string, number>;
  /** `alias NAME = TYPE;` lines prepended to the file (e.g. the weight element type). */
  aliases?: Record<string, string>;
  /** `enable X;` directives prepended (f16, subgroups). */
  enables?: string[];
  /**
   * Files of shaders/ compiled after this one, in order: shared helpers (workgroup_reduce), or entry points
   * that need an enable the base file must not (matmul_subgroups). Every spec of a shader names the same ones.
   */
  includes?: string[];
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
    const pipeline = this.device.createComputePipeline(this.descriptor(spec));
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  has(spec: KernelSpec): boolean {
    return this.pipelines.has(specKey(spec));
  }

  /**
   * Compiles the pipelines of `specs` not compiled yet, all at once (createComputePipelineAsync: the driver may
   * compile them in parallel, and the page stays responsive); `onProgress(done, total)` after each.
   */
  async prepare(specs: KernelSpec[], onProgress?: (done: number, total: number) => void): Promise<void> {
    const uncompiled = new Map<string, KernelSpec>();
    for (const s of specs) if (!this.pipelines.has(specKey(s))) uncompiled.set(specKey(s), s);
    let done = 0;
    onProgress?.(0, uncompiled.size);
    try {
      await Promise.all(
        [...uncompiled].map(async ([key, spec]) => {
          const pipeline = await this.device.createComputePipelineAsync(this.descriptor(spec));
          this.pipelines.set(key, pipeline);
          onProgress?.(++done, uncompiled.size);
        }),
      );
    } catch (e) {
      await this.checkCompilation(); // a WGSL error: thrown with file:line
      throw e;
    }
  }

  private descriptor(spec: KernelSpec): GPUComputePipelineDescriptor {
    const constants = spec.constants && Object.keys(spec.constants).length ? spec.constants : undefined;
    return {
      label: `${spec.shader}:${spec.entry}`,
      layout: 'auto',
      compute: { module: this.module(spec), entryPoint: spec.entry, constants },
    };
  }

  /** Compiles (or fetches) a module and throws with file:line on any WGSL error. */
  private module(spec: KernelSpec): GPUShaderModule {
    const header = headerFor(spec);
    const key = moduleKey(spec);
    const cached = this.modules.get(key);
    if (cached) return cached;
    const code = header + [spec.shader, ...(spec.includes ?? [])].map((name) => this.source(name)).join('\n');
    const module = this.device.createShaderModule({ label: `shaders/${spec.shader}.wgsl`, code });
    this.modules.set(key, module);
    return module;
  }

  /** file:line of a line of a module's code: header lines first, then the file, then each include. */
  private sourceLine(key: string, line: number): string {
    const [shader, header, includes] = key.split('|');
    const files = [shader, ...(includes ? includes.split(',') : [])];
    let at = line - (header ? header.split('\n').length - 1 : 0);
    for (const name of files.slice(0, -1)) {
      const lines = this.source(name).split('\n').length; // the join's newline ends each file's last line
      if (at <= lines) return `shaders/${name}.wgsl:${at}`;
      at -= lines;
    }
    return `shaders/${files.at(-1)}.wgsl:${at}`;
  }

  /** Awaits compilation messages of every module compiled so far; throws on the first error. */
  async checkCompilation(): Promise<void> {
    for (const [key, module] of this.modules) {
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length === 0) continue;
      const shader = key.split('|')[0];
      const lines = errors.map((m) => `${this.sourceLine(key, m.lineNum)}:${m.linePos}: error: ${m.message}`);
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

function moduleKey(spec: KernelSpec): string {
  return `${spec.shader}|${headerFor(spec)}|${(spec.includes ?? []).join(',')}`;
}

function specKey(spec: KernelSpec): string {
  const c = spec.constants ? Object.entries(spec.constants).sort().map(([k, v]) => `${k}=${v}`).join(',') : '';
  return `${moduleKey(spec)}|${spec.entry}|${c}`;
}
