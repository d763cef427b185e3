// The typed message protocol between the UI thread and the engine Worker. The Worker owns every GPU
// object; only plain, structured-clonable data crosses this boundary.
//
// To add a call (load a model, generate, train...):
//   1. add an entry to EngineCalls below: its args and its result;
//   2. add the handler of the same name in engine.worker.ts (the compiler insists on it);
//   3. call it from the UI with engine.call('name', args), which returns a typed Promise.
// Data pushed while a call runs (tokens, training steps) or unprompted (device lost) is a Notice: add an
// entry to EngineNotices, post it from the handler with ctx.notify, and subscribe with engine.onNotice.

import type { SyntheticLevel } from '../data/synthetic.ts';
import type { EvalProgress, EvalRun } from '../eval/runner.ts';
import type { Bench, BenchAggregate } from '../eval/suites.ts';
import type { GpuInfo } from '../gpu/device.ts';
import type { DType } from '../gpu/runtime.ts';
import type { LoadProgress } from '../model/source.ts';
import type { SamplingParams } from '../ops/sample.ts';
import type { TrainEvent } from '../train/events.ts';
import type { TrainConfig } from '../train/config.ts';
import type { OrtBackend } from '../onnx/ort-model.ts';

export type { EvalProgress, LoadProgress, OrtBackend, SamplingParams, TrainEvent };

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

/** Where the playground's model comes from; a picked folder arrives as its File objects. */
export type ModelSourceSpec = { kind: 'embedded' } | { kind: 'hub'; repo: string } | { kind: 'files'; files: File[] };

export interface ModelInfo {
  /** the source's label: "embedded tiny model", a repo id, a folder name */
  label: string;
  params: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  /** the longest prompt + completion this instance runs (rope tables) */
  maxPositions: number;
  /** element type of the weight matrices on the GPU */
  weightDtype: DType;
  /** what the runtime holds on the GPU once the weights are up (rt.bytesHeld) */
  gpuBytes: number;
  loadMs: number;
}

/** A PEFT LoRA adapter attached over the Playground's model (Playground and Benchmarks decode with it). */
export interface AdapterInfo {
  /** the picked folder's name */
  label: string;
  rank: number;
  alpha: number;
  targets: string[];
  /** LoRA matrix pairs attached */
  pairs: number;
  /** base_model_name_or_path as the adapter records it */
  baseModel: string | null;
}

// ---- inference backends ----------------------------------------------------------------------------

/** Who decodes in the Playground and the Benchmarks: our WGSL engine, or onnxruntime-web on one of its EPs. */
export type InferenceBackend = 'engine' | 'ort-webgpu' | 'ort-wasm';

export const ortBackendOf = (b: Exclude<InferenceBackend, 'engine'>): OrtBackend => (b === 'ort-webgpu' ? 'webgpu' : 'wasm');

/** The Playground's model (its LoRA adapter merged) or the last run's trained policy. */
export type PolicyChoice = 'loaded' | 'trained';

/**
 * What an onnxruntime-web backend runs: a policy exported in the Worker by our graph writer, or an ONNX model
 * folder (onnx/model*.onnx, config.json, tokenizer files) picked locally or from the Hub.
 */
export type OrtSourceSpec = { kind: 'policy'; policy: PolicyChoice } | { kind: 'hub'; repo: string } | { kind: 'files'; files: File[] };

export interface OrtModelInfo {
  backend: OrtBackend;
  /** the policy's or folder's label */
  label: string;
  /** the graph file, or "(ONNX export)" for a policy */
  graph: string;
  layers: number;
  vocab: number;
  kvType: 'float32' | 'float16';
  /** the WASM EP's thread count (null on the WebGPU EP) */
  threads: number | null;
  /** export (for a policy), read, and session creation */
  loadMs: number;
}

/** The GPU tab's cross-check: one prompt through our engine and through onnxruntime-web, logits compared. */
export interface CrossCheckReport {
  backend: OrtBackend;
  model: string;
  /** positions compared: a prefill, then cached decode steps on ORT */
  tokens: number;
  vocab: number;
  /** max |ours − ORT| / max |ours| over every position and token */
  maxRelDiff: number;
  tolerance: number;
  pass: boolean;
  ms: number;
}

export interface GenerateArgs {
  /** our engine when left out */
  backend?: InferenceBackend;
  question: string;
  /** names from the example tool set (src/toolcall/prompt.ts) */
  tools: string[];
  n: number;
  maxNewTokens: number;
  sampling: SamplingParams;
}

export interface Completion {
  /** decoded with special tokens kept, so the raw view shows exactly what was sampled */
  text: string;
  tokens: number;
  /** ended by an eos token */
  finished: boolean;
}

export interface GenerateReport {
  completions: Completion[];
  promptTokens: number;
  /** stopGenerate ended it early */
  stopped: boolean;
  prefillMs: number;
  decodeMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  /** GPU bytes our engine holds after the run: weights, KV cache, scratch (null: onnxruntime-web decoded) */
  gpuBytes: number | null;
}

// ---- training --------------------------------------------------------------------------------------

/**
 * A run to start: the config, the dataset file its `data.train` names, and the benchmark files (picked on the
 * Benchmarks tab) its `benchmark` reads when that is not a URL or the synthetic split.
 */
export interface TrainArgs {
  config: TrainConfig;
  file: File | null;
  benchFiles: BenchFile[];
  /** the run's name in the list of runs (default: its method, reward and β, and the time) */
  name?: string;
}

/** What a run kept in the browser's storage says about itself (its run.json). */
export interface RunMeta {
  name: string;
  /** ms since the epoch */
  createdAt: number;
  method: TrainConfig['method'];
  model: string;
  data: string;
  steps: number;
  /** a CLI run's events.jsonl opened in the studio: events only, nothing to resume */
  imported?: boolean;
}

export interface RunInfo extends RunMeta {
  id: string;
  /** the run Resume continues */
  current: boolean;
  /** training now */
  active: boolean;
  /** the step of its checkpoint, null when it has none */
  checkpointStep: number | null;
}

/** The run as the Worker describes it once its data and policy are ready. */
export interface TrainStart {
  model: string;
  mode: 'full' | 'lora';
  /** the run's config, validated and with its defaults */
  config: TrainConfig;
  /** e.g. "synthetic tiny, seed 0" or a file name */
  data: string;
  trainPrompts: number;
  heldoutPrompts: number;
  /** the checkpoint's step when resuming, else null */
  resumedFrom: number | null;
  /** GPU bytes held with the policy, its optimiser state and the reference up */
  gpuBytes: number;
}

/** What a sample card shows about its prompt: the request, the offered tool names, the expected answer. */
export interface PromptInfo {
  question: string;
  tools: string[];
  /** the ground-truth <tool_call> block */
  expected: string;
}

/** The run saved in the browser's private file system (OPFS). */
export interface CheckpointInfo {
  method: TrainConfig['method'];
  step: number;
  steps: number;
  mode: 'full' | 'lora';
  model: string;
  bytes: number;
  /** ms since the epoch */
  savedAt: number;
}

export interface TrainReport {
  step: number;
  stopped: boolean;
  checkpoint: CheckpointInfo | null;
}

export interface DownloadFile {
  name: string;
  blob: Blob;
}

// ---- benchmarks ------------------------------------------------------------------------------------

/** A benchmark file and its path relative to the benchmark folder (BFCL answers: "possible_answer/…"). */
export interface BenchFile {
  path: string;
  file: File;
}

export type BenchSource =
  | { bench: 'bfcl' | 'apibank'; files: BenchFile[] }
  | { bench: 'bfcl' | 'apibank'; url: string }
  | { bench: 'synthetic'; level: SyntheticLevel; seed: number; count: number };

export interface BenchArgs {
  /** our engine when left out; onnxruntime-web decodes the model loaded for that backend */
  backend?: InferenceBackend;
  source: BenchSource;
  /** items per category; 0 for all */
  limit: number;
  maxNewTokens: number;
  batchSize: number;
  /** the model loaded in the Playground, or the trained policy of the last run */
  model: 'loaded' | 'trained';
}

/** What an entry's detail shows beside its completion: the request and the benchmark's right answer. */
export interface EntryDetail {
  /** the last user turn of the conversation */
  question: string;
  expected: string | null;
}

export interface BenchReport {
  bench: Bench;
  model: string;
  run: EvalRun;
  aggregate: BenchAggregate;
}

export type EngineErrorCode =
  | 'no-webgpu' // navigator.gpu is missing: old browser, flag off, or not a secure context
  | 'no-adapter' // WebGPU exists but no adapter (blocklisted GPU, no driver, flag needed on Linux)
  | 'device-lost' // the device went away; init again to recover
  | 'not-initialized' // a call that needs the GPU came before init
  | 'no-model' // generate came before a model was loaded
  | 'cancelled' // cancelLoad aborted the load
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
  /** Download/read, validate and upload a model, replacing the current one; streams 'load-progress'. */
  loadModel: { args: { source: ModelSourceSpec }; result: ModelInfo };
  /** Aborts the running loadModel (which then fails with 'cancelled'). Skips the queue. */
  cancelLoad: { args: Record<string, never>; result: { cancelled: boolean } };
  /** Reads a picked PEFT adapter folder, checks it against the loaded model and attaches it (replacing one). */
  loadAdapter: { args: { files: File[] }; result: AdapterInfo };
  /** Detaches the adapter: the base model again. */
  unloadAdapter: { args: Record<string, never>; result: { unloaded: boolean } };
  /** G sampled completions of the playground prompt; streams 'generate-start' then 'generate-step'. */
  generate: { args: GenerateArgs; result: GenerateReport };
  /** Ends the running generate after its current step (it resolves with what it has). Skips the queue. */
  stopGenerate: { args: Record<string, never>; result: { stopping: boolean } };
  /**
   * A run of the config (its `model` is the loaded one) with the dataset file its `data.train` names; streams
   * 'train-start' then 'train-events' until the run ends. A config or file that fails changes nothing.
   */
  startTraining: { args: TrainArgs; result: TrainReport };
  /** A GRPO run of the config from the last (SFT) run's trained policy; streams like startTraining. */
  continueWithGrpo: { args: TrainArgs; result: TrainReport };
  /** Continues the OPFS checkpoint's run (or the run `id`, which becomes current) up to `steps` in all; streams like startTraining. */
  resumeTraining: { args: { steps: number; id?: string }; result: TrainReport };
  /** The runs kept in OPFS, oldest first. Skips the queue (no GPU work). */
  listRuns: { args: Record<string, never>; result: RunInfo[] };
  /** A kept run's events.jsonl. Skips the queue. */
  runEvents: { args: { id: string }; result: string };
  renameRun: { args: { id: string; name: string }; result: RunInfo[] };
  /** Deletes a kept run with its checkpoint (not the one training). */
  deleteRun: { args: { id: string }; result: RunInfo[] };
  /** Keeps a CLI run's events.jsonl as a run (events only); returns its id. */
  importRun: { args: { name: string; events: string; meta: Omit<RunMeta, 'name' | 'createdAt'> }; result: string };
  /** Ends the run after its current step, with a checkpoint. Skips the queue. */
  stopTraining: { args: Record<string, never>; result: { stopping: boolean } };
  /**
   * Step-through mode for the running and later GRPO runs: each step from the next one on streams its phases
   * as 'trace' events and waits after each for stepThroughNext; off, a waiting step goes on. Skips the queue.
   */
  stepThrough: { args: { on: boolean }; result: { on: boolean } };
  /** Lets the step waiting in step-through mode go on to its next phase. Skips the queue. */
  stepThroughNext: { args: Record<string, never>; result: { resumed: boolean } };
  /** The OPFS checkpoint's description, or null. Skips the queue (no GPU work). */
  trainingCheckpoint: { args: Record<string, never>; result: CheckpointInfo | null };
  /** The OPFS checkpoint file (safetensors with AdamW moments and the run's settings). Skips the queue. */
  downloadCheckpoint: { args: Record<string, never>; result: DownloadFile };
  /** LoRA: PEFT adapter + config; full: merged Hugging Face weights + the model's config and tokenizer files. */
  exportModel: { args: Record<string, never>; result: DownloadFile[] };
  /** The run handed over to verl or TRL: one tar of its data, reward module, launch script, README and merged policy. */
  exportRun: { args: { engine: 'verl' | 'trl' }; result: DownloadFile[] };
  /** The policy as an ONNX model folder (export-onnx's layout), one tar. */
  exportOnnx: { args: { policy: PolicyChoice; dtype: 'f32' | 'f16' }; result: DownloadFile[] };
  /**
   * Starts onnxruntime-web on `backend` with the source's model; streams 'load-progress'. That backend's
   * previous model is replaced only once the new one runs, and the other backends are untouched.
   */
  loadOrt: { args: { backend: OrtBackend; source: OrtSourceSpec }; result: OrtModelInfo };
  /** Logits of one prompt through our engine and through onnxruntime-web, on the embedded model's weights. */
  crossCheck: { args: { backend: OrtBackend }; result: CrossCheckReport };
  /** A benchmark on the loaded model or the trained policy; streams 'bench-start' then 'bench-progress'. */
  runBenchmark: { args: BenchArgs; result: BenchReport };
  /** Ends the running benchmark after its current batch (it resolves with what it has). Skips the queue. */
  stopBenchmark: { args: Record<string, never>; result: { stopping: boolean } };
}

export type CallName = keyof EngineCalls;

export type EngineRequest = { [K in CallName]: { id: number; type: K; args: EngineCalls[K]['args'] } }[CallName];

// ---- notices: pushed by the Worker during a call (id set) or on its own (id null) -------------------

export interface EngineNotices {
  'selftest-case': { case: SelftestCase };
  'device-lost': { error: EngineError };
  'load-progress': LoadProgress;
  /** The previous model's GPU memory was freed (a new one is about to go up). */
  'model-unloaded': Record<never, never>;
  /** The prompt is tokenised; prefill starts. */
  'generate-start': { promptTokens: number };
  /** Throttled: the decoded completions so far (the reply carries the final ones). */
  'generate-step': { step: number; completions: Completion[] };
  'train-start': TrainStart;
  /** The trainer's events, batched (a few per second at most); `prompts` describes prompts not sent before. */
  'train-events': { events: TrainEvent[]; prompts: Record<string, PromptInfo> };
  /** The suite is read: how many items will run, and the records that could not be read. */
  'bench-start': { bench: Bench; total: number; errors: string[] };
  /** `details` for the entries it reports, by id */
  'bench-progress': EvalProgress & { details: Record<string, EntryDetail> };
  /** Throttled: the running batch has decoded `token` of at most `of` tokens. */
  'bench-decode': { token: number; of: number };
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
