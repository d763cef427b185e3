// onnxruntime-web in the studio's Worker. Its WASM binary (with the WebGPU EP) is a file of our own build,
// emitted by Vite from node_modules, so the studio runs offline and never asks a CDN for it. The studio page
// is not cross-origin isolated (no SharedArrayBuffer for WASM threads): the WASM EP runs on one thread.
import * as ort from 'onnxruntime-web/all';
import jsepWasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';

let done = false;

/** Call before the first session: `wasmPaths` and the thread count are read when ORT's runtime starts. */
export function setUpOrtForBrowser(): void {
  if (done) return;
  done = true;
  ort.env.wasm.wasmPaths = { wasm: new URL(jsepWasm, self.location.href).href };
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
}
