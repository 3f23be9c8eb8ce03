// kib disk resize NAME SIZE: grows a VM's image-file disk.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';

type Args = GlobalArgs & { name: string; size: string; subvol?: string };

export const diskCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'disk <action>',
  describe: "Resize a VM's image-file disk",
  builder: (y) =>
    y
      .command<Args>({
        command: 'resize <name> <size>',
        describe: "Grow a VM's disk image to SIZE (like 40G)",
        builder: (b) =>
          b
            .positional('name', { type: 'string', demandOption: true, describe: 'VM name' })
            .positional('size', { type: 'string', demandOption: true, describe: 'New size' })
            .option('subvol', { type: 'string', describe: 'An extra disk of the VM instead of its main one' }) as never,
        handler: async (args) => (await import('../../disks.ts')).diskResize(contextOf(args), args.name, String(args.size), args.subvol ?? null),
      })
      .demandCommand(1, 'disk needs an action: resize') as never,
  handler: () => undefined,
};
