import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs, requireString } from '../args.ts';
import { readSourceText } from '../../data/node-files.ts';
import { parseRecords } from '../../data/load.ts';
import { validateCalls } from '../../data/instance.ts';
import { isJsonObject } from '../../toolcall/json.ts';
import { REWARDS, isRewardName } from '../../toolcall/reward.ts';

export const score: CliCommand = {
  name: 'score',
  summary: 'score completions with a reward; one JSON line per case {"reward", ...signals}',
  usage: `score --in CASES.jsonl [--reward ${Object.keys(REWARDS).join('|')}]`,
  async run(argv) {
    const args = parseCommandArgs(argv, { in: { type: 'string' }, reward: { type: 'string', default: 'binary' } });
    const rewardName = String(args.reward);
    if (!isRewardName(rewardName)) throw new UsageError(`unknown reward "${rewardName}"`);
    const reward = REWARDS[rewardName];
    // Each case: {"completion": "<text>", "ground_truth": [{"name", "arguments"}]}; numbers keep int/float.
    const cases = parseRecords(await readSourceText(requireString(args, 'in')), (value, line) => {
      if (!isJsonObject(value) || typeof value.completion !== 'string') throw new Error('case needs a string completion');
      return { line, completion: value.completion, groundTruth: validateCalls(value.ground_truth ?? null, 'ground_truth') };
    });
    const lines = [
      ...cases.records.map((c) => {
        const { reward: r, signals } = reward(c.completion, c.groundTruth);
        return { line: c.line, out: { reward: r, ...signals } };
      }),
      ...cases.errors.map((e) => ({ line: e.line, out: { error: e.message, line: e.line } })),
    ].sort((a, b) => a.line - b.line);
    for (const { out } of lines) process.stdout.write(JSON.stringify(out) + '\n');
    if (cases.errors.length > 0) throw new Error(`${cases.errors.length} of ${lines.length} cases could not be scored (their error lines are above)`);
    if (lines.length === 0) throw new Error(`${args.in}: no cases`);
  },
};
