// kib change NAME: changes only the settings given on the command line.
import type { CommandModule } from 'yargs';
import { contextOf, vmFlags, vmFlagsOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

type Args = GlobalArgs & { name: string };

export const changeCommand: CommandModule<GlobalArgs, Args> = {
  command: 'change <name>',
  describe: 'Change an existing VM (only the flags given)',
  builder: (y) => vmFlags(y.positional('name', { type: 'string', demandOption: true, describe: 'VM name' })) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const { changeVm } = await import('../../vms.ts');
    const result = await changeVm(ctx, String(args.name), vmFlagsOf(args));
    printResult(ctx, result, { vm: { name: args.name, ...result.state.vms[args.name] } });
  },
};
