import { defineConfig } from '@playwright/test';
import { chromiumPath, WEBGPU_ARGS } from './e2e/chromium.ts';

// e2e against the production build (`npm run test:e2e` builds first), in headless system Chromium.
// One worker: two cores and a CPU WebGPU adapter leave no room for parallel browsers.
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 60_000 },
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:4173', // a secure context: navigator.gpu exists only on localhost or https
    headless: true,
    viewport: { width: 1280, height: 900 },
    launchOptions: { executablePath: chromiumPath(), args: WEBGPU_ARGS },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: 'npx vite preview --host 127.0.0.1 --port 4173 --strictPort',
    url: 'http://127.0.0.1:4173',
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
