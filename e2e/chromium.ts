// Which Chromium the e2e tests drive, and how. `npx playwright install` cannot download browsers on our
// machines, so we use the system's (Debian's chromium ships SwiftShader, a CPU WebGPU adapter).
import { existsSync } from 'node:fs';

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  if (existsSync(DEFAULT_CHROMIUM)) return DEFAULT_CHROMIUM;
  throw new Error(
    `No Chromium for the e2e tests: ${DEFAULT_CHROMIUM} is missing and CHROMIUM_PATH is not set.\n` +
      'On Debian: apt-get install chromium (or run bash .ci/run), or set CHROMIUM_PATH to a Chromium/Chrome binary.',
  );
}

/** Flags without WebGPU: quiet, offline, sandbox off (CI runs as root). */
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** With this flag Chromium on Linux offers a WebGPU adapter (SwiftShader when there is no GPU). */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', ...BASE_ARGS];
