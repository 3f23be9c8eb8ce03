// kib remove NAME: removes a VM's user, keys, units and network entries. Its disks stay.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

type Args = GlobalArgs & { name: string };

export const removeCommand: CommandModule<GlobalArgs, Args> = {
  command: 'remove <name>',
  describe: "Remove a VM's configuration (not its disks)",
  builder: (y) => y.positional('name', { type: 'string', demandOption: true, describe: 'VM name' }) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const { removeVm } = await import('../../vms.ts');
    const result = await removeVm(ctx, String(args.name));
    const kept = result.keptVolumes.length > 0 ? `; its volumes ${result.keptVolumes.join(', ')} are kept` : '';
    printResult(ctx, result.changes, { removed: args.name, keptVolumes: result.keptVolumes }, ctx.dryRun ? undefined : `VM ${args.name} removed${kept}`);
  },
};
