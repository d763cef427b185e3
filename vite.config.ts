import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The engine runs in a module Worker (worker.format 'es'); esnext keeps top-level await and modern syntax
// as written, since WebGPU browsers support them all anyway.
// Cross-origin isolation (COOP same-origin + COEP require-corp) gives the page SharedArrayBuffer, so
// onnxruntime-web's WASM EP can start threads. require-corp only blocks cross-origin no-cors loads without a
// CORP header; the Hub's files are fetched in CORS mode (huggingface.co answers with
// Access-Control-Allow-Origin), and everything else (models in public/, workers, wasm) is same-origin.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  plugins: [react()],
  server: { headers: isolation },
  preview: { headers: isolation },
  publicDir: 'public',
  worker: { format: 'es' },
  build: { target: 'esnext' },
});
