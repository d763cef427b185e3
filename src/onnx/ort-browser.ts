// onnxruntime-web in the studio's Worker. Its WASM binary (with the WebGPU EP) is a file of our own build,
// emitted by Vite from node_modules, so the studio runs offline and never asks a CDN for it. The studio is
// served cross-origin isolated (vite.config.ts), so the WASM EP gets threads where SharedArrayBuffer exists.
import * as ort from 'onnxruntime-web/all';
import jsepWasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
// The glue as its own file: WASM threads start Workers from the glue's URL (the bundled copy would start
// them from the engine Worker's own chunk).
import jsepGlue from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';

let done = false;

/** Call before the first session: `wasmPaths` and the thread count are read when ORT's runtime starts. */
export function setUpOrtForBrowser(): void {
  if (done) return;
  done = true;
  ort.env.wasm.wasmPaths = { wasm: new URL(jsepWasm, self.location.href).href, mjs: new URL(jsepGlue, self.location.href).href };
  ort.env.wasm.numThreads = wasmThreads(self);
  ort.env.logLevel = 'error';
}

/** Threads for the WASM EP: up to 4 of the machine's cores, 1 where the page is not cross-origin isolated. */
export function wasmThreads(g: { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } }): number {
  if (g.crossOriginIsolated !== true) return 1;
  return Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1));
}
