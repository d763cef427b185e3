// The typed message protocol between the UI thread and the engine Worker. The Worker owns every GPU
// object; only plain, structured-clonable data crosses this boundary.
//
// To add a call (load a model, generate, train...):
//   1. add an entry to EngineCalls below: its args and its result;
//   2. add the handler of the same name in engine.worker.ts (the compiler insists on it);
//   3. call it from the UI with engine.call('name', args), which returns a typed Promise.
// Data pushed while a call runs (tokens, training steps) or unprompted (device lost) is a Notice: add an
// entry to EngineNotices, post it from the handler with ctx.notify, and subscribe with engine.onNotice.

import type { GpuInfo } from '../gpu/device.ts';

// ---- payloads --------------------------------------------------------------------------------------

export interface SelftestCase {
  name: string;
  M: number;
  N: number;
  K: number;
  bias: boolean;
  /** max |gpu − ref| / max(1, |ref|) against the f64-accumulated TypeScript reference */
  maxRelError: number;
  tolerance: number;
  pass: boolean;
  /** wall time of dispatch + readback, including pipeline compilation the first time a kernel variant runs */
  ms: number;
}

export interface SelftestReport {
  cases: SelftestCase[];
  pass: boolean;
  ms: number;
}

export type EngineErrorCode =
  | 'no-webgpu' // navigator.gpu is missing: old browser, flag off, or not a secure context
  | 'no-adapter' // WebGPU exists but no adapter (blocklisted GPU, no driver, flag needed on Linux)
  | 'device-lost' // the device went away; init again to recover
  | 'not-initialized' // a call that needs the GPU came before init
  | 'internal'; // anything else, with its message

export interface EngineError {
  code: EngineErrorCode;
  message: string;
}

// ---- calls: one request, one reply -----------------------------------------------------------------

export interface EngineCalls {
  /** Acquire the adapter and device (idempotent; re-creates the runtime after a device loss). */
  init: { args: Record<string, never>; result: GpuInfo };
  /** Matmul on ragged shapes against the CPU reference; streams a 'selftest-case' notice per case. */
  selftest: { args: Record<string, never>; result: SelftestReport };
}

export type CallName = keyof EngineCalls;

export type EngineRequest = { [K in CallName]: { id: number; type: K; args: EngineCalls[K]['args'] } }[CallName];

// ---- notices: pushed by the Worker during a call (id set) or on its own (id null) -------------------

export interface EngineNotices {
  'selftest-case': { case: SelftestCase };
  'device-lost': { error: EngineError };
}

export type NoticeName = keyof EngineNotices;

export type EngineNotice = { [K in NoticeName]: { kind: 'notice'; type: K; id: number | null } & EngineNotices[K] }[NoticeName];

// ---- everything the Worker posts -------------------------------------------------------------------

export type EngineReply = { [K in CallName]: { kind: 'reply'; id: number; type: K; result: EngineCalls[K]['result'] } }[CallName];

export interface EngineFailure {
  kind: 'failure';
  id: number;
  error: EngineError;
}

export type WorkerMessage = EngineReply | EngineFailure | EngineNotice;
