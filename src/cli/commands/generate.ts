import type { CliCommand } from '../command.ts';
import { optionalNumber, parseCommandArgs, parseIdList, UsageError } from '../args.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import { dirSource } from '../../model/source-node.ts';
import { loadModel } from '../../model/source.ts';
import { instantiateModel } from '../../model/instantiate.ts';
import { Generator } from '../../model/generate.ts';
import { loadTokenizer } from '../../model/tokenizer.ts';
import { checkDecodeSettings, checkTokenIds } from '../../model/inputs.ts';

const FLAGS = { n: '--n', maxNewTokens: '--max-new-tokens', temperature: '--temperature', topP: '--top-p', topK: '--top-k', seed: '--seed' };

export const generate: CliCommand = {
  name: 'generate',
  summary: 'sample G completions with the batched engine; prints completions and timings as JSON',
  usage:
    'generate --model DIR (--prompt TEXT | --ids 1,2,3) [--n G] [--max-new-tokens N] [--temperature T] ' +
    '[--top-p P] [--top-k K] [--seed S] [--chat]',
  async run(argv) {
    const args = parseCommandArgs(argv, {
      model: { type: 'string' },
      prompt: { type: 'string' },
      ids: { type: 'string' },
      n: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      seed: { type: 'string' },
      chat: { type: 'boolean' },
    });
    const dir = typeof args.model === 'string' ? args.model : undefined;
    if (!dir) throw new UsageError('missing required option --model');
    if ((args.prompt === undefined) === (args.ids === undefined)) throw new UsageError('give exactly one of --prompt and --ids');
    const settings = {
      n: optionalNumber(args, 'n', 1),
      maxNewTokens: optionalNumber(args, 'max-new-tokens', 32),
      sampling: {
        temperature: optionalNumber(args, 'temperature', 0.7),
        topP: optionalNumber(args, 'top-p', 1),
        topK: optionalNumber(args, 'top-k', 0),
        seed: optionalNumber(args, 'seed', 0),
      },
    };
    try {
      checkDecodeSettings(settings, FLAGS);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const givenIds = typeof args.ids === 'string' ? parseIdList(args.ids, 'ids') : null;
    const loaded = await loadModel(dirSource(dir));
    const tokenizer = loaded.tokenizerJson ? await loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig) : null;
    let ids: number[];
    if (typeof args.prompt === 'string') {
      if (!tokenizer) throw new Error(`${dir} has no tokenizer.json: pass --ids instead of --prompt`);
      const text = args.chat ? tokenizer.applyChatTemplate([{ role: 'user', content: args.prompt }]) : args.prompt;
      ids = tokenizer.encode(text);
    } else {
      ids = givenIds!;
    }
    const maxNew = settings.maxNewTokens;
    const limits = { vocabSize: loaded.config.vocabSize, maxPositions: loaded.config.maxPositionEmbeddings };
    checkTokenIds(ids, limits, givenIds ? '--ids' : 'the prompt', maxNew);
    const rt = await createNodeRuntime();
    const model = instantiateModel(rt, loaded, { maxPositions: ids.length + maxNew });
    const gen = new Generator(model);
    const eosIds = tokenizer?.eosIds ?? [];
    const result = await gen.generate(ids, { ...settings, eosIds });
    const completions = result.tokens.map((t, i) => ({
      ids: t,
      text: tokenizer ? tokenizer.decode(t) : null,
      finished: result.finished[i],
    }));
    const timings = {
      adapter: `${rt.info.vendor} ${rt.info.architecture} ${rt.info.description}`.trim(),
      prompt_tokens: ids.length,
      prefill_ms: round(result.prefillMs),
      decode_ms: round(result.decodeMs),
      prefill_tokens_per_s: round(result.prefillTokensPerSec),
      decode_tokens_per_s: round(result.decodeTokensPerSec),
    };
    process.stdout.write(JSON.stringify({ completions, timings }, null, 2) + '\n');
    rt.destroy();
  },
};

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
