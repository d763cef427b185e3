import { defineConfig } from 'vitest/config';

// One GPU, two cores: test files run one at a time; SwiftShader is slow, so timeouts are generous.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
