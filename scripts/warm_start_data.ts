// Step 1 of the warm start (step 2: scripts/warm_start.py): the tokenized SFT data for the embedded default.
//
//   npx tsx scripts/warm_start_data.ts            # writes out/warm-start/sft-data.json
//
// Train: SFT targets (src/data/sft.ts, templated reasoning) for the synthetic task's train split at the tiny
// level, drawn with a seed of their own so the studio's prompts (seed 0) are unseen instances of the same
// distribution. Probe: the studio's first train prompts (seed 0), on which warm_start.py reports progress.
// Prompts are rendered with the default thinking template, as the studio, the CLI and the benchmarks do.
// Also the text of every token id, so the Python side can show what the model writes.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sftTarget } from '../src/data/sft.ts';
import { generateSynthetic } from '../src/data/synthetic.ts';
import type { Instance } from '../src/data/instance.ts';
import { loadTokenizer } from '../src/model/tokenizer.ts';
import { renderPrompt } from '../src/toolcall/template.ts';

const MODEL_DIR = fileURLToPath(new URL('../public/models/tiny/', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../out/warm-start/', import.meta.url));
export const SFT_SEED = 1;
export const SFT_COUNT = 12000;
const PROBE_COUNT = 256;

const readJson = (file: string) => JSON.parse(readFileSync(MODEL_DIR + file, 'utf8'));
const tok = loadTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), readJson('generation_config.json'));

const encode = (instances: Instance[]) =>
  instances.map((instance) => ({
    prompt: tok.encode(renderPrompt(instance)),
    target: tok.encode(sftTarget(instance, 'templated')),
  }));

const train = encode(generateSynthetic({ level: 'tiny', split: 'train', seed: SFT_SEED, count: SFT_COUNT }));
const probe = encode(generateSynthetic({ level: 'tiny', split: 'train', seed: 0, count: PROBE_COUNT }));
const vocab = Array.from({ length: tok.vocabSize }, (_, id) => tok.decode([id]));

mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(OUT_DIR + 'sft-data.json', JSON.stringify({ eos: tok.eosIds[0], vocab, train, probe }));
const tokens = train.reduce((n, s) => n + s.prompt.length + s.target.length, 0);
console.log(`${train.length} SFT samples (${tokens} tokens), ${probe.length} probe prompts → ${OUT_DIR}sft-data.json`);
