// `npm run -s cli -- <command> [options]`: the headless entry to the same engine the studio runs.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CliCommand } from './command.ts';
import { UsageError } from './args.ts';
import { info } from './commands/info.ts';
import { score } from './commands/score.ts';
import { bfclCheck } from './commands/bfcl-check.ts';
import { logits } from './commands/logits.ts';
import { generate } from './commands/generate.ts';
import { grads } from './commands/grads.ts';
import { evaluate } from './commands/eval.ts';
import { train } from './commands/train.ts';
import { exportRun } from './commands/export-run.ts';
import { exportOnnx } from './commands/export-onnx.ts';

const COMMANDS: CliCommand[] = [info, logits, generate, grads, score, bfclCheck, evaluate, train, exportRun, exportOnnx];

function help(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}\n  ${''.padEnd(12)} usage: ${c.usage}`);
  return `Tool-N1 Studio CLI\n\nusage: npm run -s cli -- <command> [options]\n\ncommands:\n${rows.join('\n')}\n`;
}

/** Runs one command line; the exit code: 0 done, 1 failed (a message on stderr), 2 a usage error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${name}: ${e.message}\nusage: npm run -s cli -- ${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    if (process.env.TOOLN1_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}

// Run when executed (tsx src/cli/main.ts), not when imported (the tests call main() in-process).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
