// kib remove NAME: removes a VM's user, keys, units and network entries. Its disks stay
// unless --purge.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

type Args = GlobalArgs & { name: string };

export const removeCommand: CommandModule<GlobalArgs, Args> = {
  command: 'remove <name>',
  describe: "Remove a VM's configuration (its disks too with --purge)",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'VM name' })
      .option('purge', { type: 'boolean', describe: 'Also delete the disks kib made for it (image files, volumes)' }) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const { removeVm } = await import('../../vms.ts');
    const result = await removeVm(ctx, String(args.name), Boolean((args as { purge?: boolean }).purge));
    const kept = result.keptDisks.length > 0 ? `; its disks are kept: ${result.keptDisks.join(', ')} (remove --purge deletes them)` : '';
    printResult(ctx, result, { removed: args.name, keptDisks: result.keptDisks, disks: result.extra ?? [] }, ctx.dryRun ? undefined : `VM ${args.name} removed${kept}`);
  },
};
