import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The engine runs in a module Worker (worker.format 'es'); esnext keeps top-level await and modern syntax
// as written, since WebGPU browsers support them all anyway.
export default defineConfig({
  plugins: [react()],
  publicDir: 'public',
  worker: { format: 'es' },
  build: { target: 'esnext' },
});
