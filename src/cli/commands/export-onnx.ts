import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { modelSource } from '../model.ts';
import { loadModel } from '../../model/source.ts';
import { dirSource } from '../../model/source-node.ts';
import { loadPeftAdapter, mergeAdapter } from '../../model/adapter.ts';
import { exportOnnxFolder } from '../../onnx/export.ts';
import type { OnnxDtype } from '../../onnx/qwen2-graph.ts';

export const exportOnnx: CliCommand = {
  name: 'export-onnx',
  summary: 'export a model as ONNX with a KV cache (onnx/model.onnx, config, tokenizer) for onnxruntime-web / transformers.js',
  usage: 'export-onnx --model DIR|embedded|hub:REPO [--adapter DIR] --out DIR [--dtype f32|f16]',
  async run(argv) {
    const args = parseCommandArgs(argv, { model: { type: 'string' }, adapter: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' } });
    const dtype = (args.dtype ?? 'f32') as OnnxDtype;
    if (dtype !== 'f32' && dtype !== 'f16') throw new UsageError('--dtype must be f32 or f16');
    const out = requireString(args, 'out');
    const base = await loadModel(modelSource(requireString(args, 'model'))); // the tokenizer files are copied, not needed
    // A PEFT adapter is checked against the base (as eval --adapter does) and merged into its weights.
    const loaded = typeof args.adapter === 'string' ? mergeAdapter(base, await loadPeftAdapter(dirSource(args.adapter), base.config)) : base;
    const files = exportOnnxFolder(loaded, { dtype });
    for (const file of files) {
      const path = join(out, file.path);
      mkdirSync(dirname(path), { recursive: true });
      const fd = openSync(path, 'w');
      try {
        for (const chunk of file.chunks) writeSync(fd, chunk);
      } finally {
        closeSync(fd);
      }
    }
    const bytes = (f: (typeof files)[number]) => f.chunks.reduce((n, c) => n + c.byteLength, 0);
    process.stderr.write(`export-onnx: ${loaded.source} → ${out}\n${files.map((f) => `  ${f.path} (${(bytes(f) / 2 ** 20).toFixed(2)} MiB)`).join('\n')}\n`);
    if (!loaded.tokenizerJson) process.stderr.write('export-onnx: the model has no tokenizer files; none were written\n');
  },
};
