import type { CliCommand } from '../command.ts';
import { createNodeRuntime } from '../../gpu/node.ts';
import { parseCommandArgs } from '../args.ts';

export const info: CliCommand = {
  name: 'info',
  summary: 'print the WebGPU adapter, granted features and limits as JSON',
  usage: 'info [--no-features]',
  async run(argv) {
    const args = parseCommandArgs(argv, { 'no-features': { type: 'boolean' } });
    const rt = await createNodeRuntime(
      args['no-features'] ? { disableFeatures: ['shader-f16', 'subgroups', 'timestamp-query'] } : {},
    );
    process.stdout.write(JSON.stringify({ adapter: rt.info }, null, 2) + '\n');
    rt.destroy();
  },
};
