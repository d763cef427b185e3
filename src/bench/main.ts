// `npm run bench`: inference and training throughput of the engine on this machine's WebGPU adapter, and
// the GPU memory of a GRPO step (measured on small runs, computed for the 0.5B target by src/train/memory.ts).
//
//   npm run bench                                   # embedded model + Qwen2.5-0.5B shape (random weights)
//   npm run bench -- --model embedded               # the tiny model only (about a minute on SwiftShader)
//   npm run bench -- --model DIR --only inference   # any Qwen2 folder
//   npm run bench -- --json > bench.json            # results as JSON on stdout (progress stays on stderr)
//   npm run bench -- --only learning [--steps 40]   # GRPO from the embedded default with the studio's preset
//
// Figures taken on SwiftShader (a CPU) say nothing about a real GPU.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createNodeRuntime, PROJECT_ROOT } from '../gpu/node.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { dirSource, embeddedDirSource } from '../model/source-node.ts';
import { loadModel, type LoadedModel } from '../model/source.ts';
import { benchInference, coldStart, parameterCount, warmUp, type ColdStart, type InferenceResult } from './inference.ts';
import { benchLoraStep, benchToolcallGrpo, type LoraStepResult, type ToolcallGrpoResult } from './training.ts';
import { memoryTargets } from './memory-targets.ts';
import { benchLearning, learningReport, type LearningResult } from './learning.ts';
import { tokenizerForModel } from '../model/tokenizer.ts';
import { formatMemoryReport } from '../train/memory.ts';
import { gib, inferenceTables, memoryTable, trainingTables } from './report.ts';
import { benchVsOrt, QWEN2_25M_CONFIG, vsOrtTable, type VsOrtResult } from './vs-ort.ts';
import { randomModel } from './random-model.ts';
import { setUpOrtForNode } from '../onnx/ort-node.ts';
import type { OrtBackend } from '../onnx/ort-model.ts';

const HALF_B_DIR = join(PROJECT_ROOT, 'models-local', 'qwen2.5-0.5b-random');
const PYTHON = '/usr/bin/python3';
/** models above this many parameters get the short "big model" defaults */
const BIG = 50e6;

const USAGE = `npm run bench -- [options]
  --model M           embedded | 0.5b | DIR (repeatable; default: embedded and 0.5b)
  --only PART         inference | training | memory | learning (repeatable; default: all but learning)
  --prompt-tokens N   prompt length for inference (default 32; 8 for models over 50M parameters)
  --new-tokens N      tokens generated per sequence, the first from the prefill (default 17; 2 for big models)
  --batch N           batch sizes (repeatable; default 1 and 8)
  --repeats N         decode rounds over the batch sizes, alternating; the fastest counts; rounds after the
                      first use 1-token prompts (default 3; 2 for big models)
  --steps N           GRPO steps on the tiny model (training: default 2, the mean skips step 1; learning: default 40)
  --start-prompts N   learning: train prompts scoring the default before training (default 32)
  --train-tokens P,C  prompt,completion tokens of the big-model LoRA step (default 4,4)
  --lora-rank R       LoRA rank (default 16)
  --tiny-mode M       full | lora: GRPO modes on the tiny model (repeatable; default full)
  --no-profile        skip the per-kernel profile of a decode step
  --json              print the results as JSON on stdout
  --vs ort            instead: ours beside onnxruntime-web (WebGPU EP and WASM EP, 2 threads) on the same
                      weights and adapter (models: embedded and 25m, a ~25M Qwen2 shape with random weights)
  --ort-ep EP         with --vs ort: webgpu | wasm (repeatable; default both; WASM on 1 thread under Node)
  -h, --help`;

interface Args {
  models: string[];
  only: Set<string>;
  promptTokens?: number;
  newTokens?: number;
  batches: number[];
  repeats?: number;
  steps?: number;
  startPrompts: number;
  trainTokens: [number, number];
  loraRank: number;
  tinyModes: ('full' | 'lora')[];
  profile: boolean;
  json: boolean;
  vs?: 'ort';
  ortEps: OrtBackend[];
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', multiple: true },
      only: { type: 'string', multiple: true },
      'prompt-tokens': { type: 'string' },
      'new-tokens': { type: 'string' },
      batch: { type: 'string', multiple: true },
      repeats: { type: 'string' },
      steps: { type: 'string' },
      'start-prompts': { type: 'string' },
      'train-tokens': { type: 'string' },
      'lora-rank': { type: 'string' },
      'tiny-mode': { type: 'string', multiple: true },
      'no-profile': { type: 'boolean' },
      json: { type: 'boolean' },
      vs: { type: 'string' },
      'ort-ep': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const int = (v: string | undefined, name: string, min = 1): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const only = new Set(values.only ?? ['inference', 'training', 'memory']);
  for (const o of only) if (!['inference', 'training', 'memory', 'learning'].includes(o)) throw new Error(`--only ${o}: expected inference, training, memory or learning`);
  const tt = (values['train-tokens'] ?? '4,4').split(',').map((x) => int(x, 'train-tokens')!);
  if (tt.length !== 2) throw new Error('--train-tokens takes PROMPT,COMPLETION');
  return {
    models: values.model ?? ['embedded', '0.5b'],
    only,
    promptTokens: int(values['prompt-tokens'], 'prompt-tokens'),
    newTokens: int(values['new-tokens'], 'new-tokens', 2),
    batches: (values.batch ?? ['1', '8']).map((b) => int(b, 'batch')!),
    repeats: int(values.repeats, 'repeats'),
    steps: int(values.steps, 'steps'),
    startPrompts: int(values['start-prompts'], 'start-prompts') ?? 32,
    trainTokens: [tt[0], tt[1]],
    loraRank: int(values['lora-rank'], 'lora-rank') ?? 16,
    tinyModes: (values['tiny-mode'] ?? ['full']).map((m) => {
      if (m !== 'full' && m !== 'lora') throw new Error(`--tiny-mode ${m}: expected full or lora`);
      return m;
    }),
    profile: !values['no-profile'],
    json: !!values.json,
    vs: values.vs === undefined ? undefined : values.vs === 'ort' ? 'ort' : (() => { throw new Error(`--vs ${values.vs}: expected ort`); })(),
    ortEps: (values['ort-ep'] ?? ['webgpu', 'wasm']).map((e) => {
      if (e !== 'webgpu' && e !== 'wasm') throw new Error(`--ort-ep ${e}: expected webgpu or wasm`);
      return e;
    }),
  };
}

const log = (msg: string) => process.stderr.write(msg + '\n');

/** The 0.5B-shaped random model: written by scripts/make_fixtures.py when missing and PyTorch is there. */
function halfBDir(): string | null {
  if (existsSync(join(HALF_B_DIR, 'model.safetensors'))) return HALF_B_DIR;
  const torch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  if (torch.status !== 0) {
    log(`skipping the 0.5B shape: ${HALF_B_DIR} is missing and ${PYTHON} has no torch to write it (scripts/make_fixtures.py)`);
    return null;
  }
  log(`writing ${HALF_B_DIR} (random weights, Qwen2.5-0.5B shapes, ~1 GB, never committed)...`);
  const made = spawnSync(PYTHON, ['scripts/make_fixtures.py', '--shape', 'qwen2.5-0.5b', '--out', HALF_B_DIR, '--dtype', 'bf16'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (made.status !== 0) {
    log('skipping the 0.5B shape: scripts/make_fixtures.py failed');
    return null;
  }
  return HALF_B_DIR;
}

async function openModels(names: string[]): Promise<LoadedModel[]> {
  const out: LoadedModel[] = [];
  for (const name of names) {
    if (name === 'embedded') out.push(await loadModel(embeddedDirSource()));
    else if (name === '0.5b') {
      const dir = halfBDir();
      if (dir) out.push({ ...(await loadModel(dirSource(dir))), source: 'qwen2.5-0.5b-random' });
    } else out.push(await loadModel(dirSource(name)));
  }
  return out;
}

function adapterName(rt: GpuRuntime): string {
  const i = rt.info;
  return `${[i.vendor, i.architecture, i.description].filter(Boolean).join(' ')} (f16 ${i.f16 ? 'yes' : 'no'}, timestamps ${i.timestamps ? 'yes' : 'no'})`;
}

/** --vs ort: the side-by-side benchmark (src/bench/vs-ort.ts). */
async function mainVsOrt(args: Args): Promise<void> {
  const started = performance.now();
  // Everything is imported and read before ORT's WASM runtime starts (see src/onnx/ort-node.ts).
  const names = args.models.join() === 'embedded,0.5b' ? ['embedded', '25m'] : args.models;
  const models = await Promise.all(names.map(async (n) => (n === '25m' ? randomModel(QWEN2_25M_CONFIG, 1, 'qwen2-25m-random') : (await openModels([n]))[0])));
  const rt = await createNodeRuntime();
  const adapter = adapterName(rt);
  log(`adapter: ${adapter}`);
  await setUpOrtForNode(1); // the full build cannot start WASM threads under Node (it fetches its worker script)
  const results: VsOrtResult[] = [];
  for (const m of models.filter(Boolean)) {
    log(`vs ort: ${m.source} (${(parameterCount(m) / 1e6).toFixed(1)}M parameters)`);
    results.push(await benchVsOrt(rt, m, { eps: args.ortEps, rounds: args.repeats ?? 2, decodeSteps: 4, log }));
  }
  rt.destroy();
  const totalSec = (performance.now() - started) / 1000;
  if (args.json) {
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), adapter, seconds: totalSec, vsOrt: results }, null, 2) + '\n');
    return;
  }
  const out = [`Tool-N1 Studio vs onnxruntime-web — ${new Date().toISOString().slice(0, 10)}`, `adapter: ${adapter}`];
  for (const r of results) out.push('', vsOrtTable(r));
  out.push('', `(${totalSec.toFixed(0)} s in all; on SwiftShader only the ratios mean something)`);
  process.stdout.write(out.join('\n') + '\n');
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (args.vs === 'ort') return mainVsOrt(args);
  const started = performance.now();
  const rt = await createNodeRuntime();
  const adapter = adapterName(rt);
  log(`adapter: ${adapter}`);
  const embedded = await loadModel(embeddedDirSource());
  const models = args.only.has('inference') || args.only.has('training') ? await openModels(args.models) : [];
  const isBig = (m: LoadedModel) => parameterCount(m) > BIG;

  const inference: InferenceResult[] = [];
  let cold: ColdStart | null = null;
  if (args.only.has('inference')) {
    log('inference: cold start of the embedded model (nothing compiled yet)');
    cold = await coldStart(rt, embedded, 32);
    for (const m of models) {
      const big = isBig(m);
      const promptTokens = args.promptTokens ?? (big ? 8 : 32);
      const newTokens = args.newTokens ?? (big ? 2 : 17);
      log(`inference: ${m.source} (${(parameterCount(m) / 1e6).toFixed(1)}M parameters)`);
      await warmUp(rt, embedded, args.batches, promptTokens); // compiles the pipelines outside the timings
      const t = performance.now();
      inference.push(
        await benchInference(rt, m, {
          promptTokens, newTokens, batches: args.batches, topKernels: 8, log, repeats: args.repeats ?? (big ? 2 : 3),
          profileBatches: args.profile ? (big ? [Math.max(...args.batches)] : args.batches) : [],
        }),
      );
      rt.pool.trim();
      log(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`);
    }
  }
  rt.destroy();

  const grpo: ToolcallGrpoResult[] = [];
  const lora: LoraStepResult[] = [];
  if (args.only.has('training')) {
    // Fresh runtimes: rt.bytesHeld counts everything a runtime's pool ever held.
    for (const mode of args.tinyModes) {
      log(`training: GRPO on the tool-calling task, ${embedded.source}, ${mode}`);
      const trt = await createNodeRuntime();
      grpo.push(
        await benchToolcallGrpo(trt, embedded, {
          mode, loraRank: 8, steps: args.steps ?? 2, promptsPerStep: 1, groupSize: 4, maxNewTokens: 16, microBatch: 4, level: 'tiny', log,
        }),
      );
      trt.destroy();
    }
    for (const m of models.filter(isBig)) {
      log(`training: one LoRA gradient step on ${m.source} (${args.trainTokens.join('+')} tokens, rank ${args.loraRank})`);
      const trt = await createNodeRuntime();
      lora.push(
        await benchLoraStep(trt, m, { rank: args.loraRank, promptTokens: args.trainTokens[0], completionTokens: args.trainTokens[1], recompute: false, log }),
      );
      trt.destroy();
    }
  }

  let learning: LearningResult | null = null;
  if (args.only.has('learning')) {
    const lrt = await createNodeRuntime();
    const source = embeddedDirSource();
    learning = await benchLearning(lrt, { source, loaded: embedded, tokenizer: await tokenizerForModel(embedded) }, {
      steps: args.steps ?? 40, startPrompts: args.startPrompts, log,
    });
    lrt.destroy();
  }

  const memory = args.only.has('memory') ? await memoryTargets(args.loraRank) : [];
  const totalSec = (performance.now() - started) / 1000;

  if (args.json) {
    const plain = memory.map(({ setup, ...t }) => ({ ...t, setup: { ...setup, config: 'qwen2.5-0.5b' } }));
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), adapter, seconds: totalSec, coldStart: cold, inference, training: { grpo, lora }, memory: plain, learning }, null, 2) + '\n');
    return;
  }
  const out: string[] = [];
  out.push(`Tool-N1 Studio engine benchmark — ${new Date().toISOString().slice(0, 10)}`);
  out.push(`adapter: ${adapter}`);
  if (inference.length) out.push('', '## Inference (Generator.generateBatch, temperature 1, no early stop)', inferenceTables(inference, cold));
  if (grpo.length || lora.length) out.push('', '## Training', trainingTables(grpo, lora));
  if (learning) out.push('', '## Learning (GRPO from the embedded default, the studio\'s default preset)', learningReport(learning));
  if (memory.length) {
    out.push('', '## GPU memory of a GRPO step at the target configuration (the engine on the null device, src/train/memory.ts; not measured)');
    out.push(memoryTable(memory));
    const worst = memory.find((t) => t.baseDtype === 'f16' && !t.recompute)!;
    out.push('', `breakdown, f16 base, no recomputation (${gib(worst.report.heldBytes)}):`, ...formatMemoryReport(worst.report));
  }
  out.push('', `(${totalSec.toFixed(0)} s in all; SwiftShader runs on the CPU: its figures say nothing about a real GPU)`);
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
