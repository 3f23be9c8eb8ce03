// kib info NAME: a VM's settings, allocations and the command line its unit runs.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';

type Args = GlobalArgs & { name: string };

export const infoCommand: CommandModule<GlobalArgs, Args> = {
  command: 'info <name>',
  describe: 'Print details of a single VM',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true, describe: 'VM name' }) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const { vmInfo, formatInfo } = await import('../../vm-info.ts');
    const info = await vmInfo(ctx, String(args.name));
    if (ctx.json) ctx.out(JSON.stringify(info, null, 2));
    else for (const line of formatInfo(info)) ctx.out(line);
  },
};
