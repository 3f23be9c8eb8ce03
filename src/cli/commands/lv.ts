// kib lv create|extend|remove NAME ...: a VM's LVM volumes; kib lvs lists them.
import type { Argv, CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';

type Args = GlobalArgs & { name: string; size?: string; subvol?: string };

const target = <T>(y: Argv<T>, withSize: boolean) => {
  const named = y
    .positional('name', { type: 'string', demandOption: true, describe: 'VM name' })
    .option('subvol', { type: 'string', describe: 'An extra disk of the VM (volume NAME-DISK) instead of its main one' });
  return withSize ? named.positional('size', { type: 'string', demandOption: true, describe: 'Size, like 20G' }) : named;
};

export const lvCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'lv <action>',
  describe: "Create, extend or remove a VM's LVM volume",
  builder: (y) =>
    y
      .command<Args>({
        command: 'create <name> <size>',
        describe: "Create a VM's volume (NAME, or NAME-DISK with --subvol)",
        builder: (b) => target(b, true) as never,
        handler: async (args) => (await import('../../disks.ts')).lvCreate(contextOf(args), args.name, String(args.size), args.subvol ?? null),
      })
      .command<Args>({
        command: 'extend <name> <size>',
        describe: "Grow a VM's volume to SIZE",
        builder: (b) => target(b, true) as never,
        handler: async (args) => (await import('../../disks.ts')).lvExtend(contextOf(args), args.name, String(args.size), args.subvol ?? null),
      })
      .command<Args>({
        command: 'remove <name>',
        describe: "Remove a VM's volume (refused while the VM runs)",
        builder: (b) => target(b, false) as never,
        handler: async (args) => (await import('../../disks.ts')).lvRemove(contextOf(args), args.name, args.subvol ?? null),
      })
      .demandCommand(1, 'lv needs an action: create, extend or remove') as never,
  handler: () => undefined,
};

export const lvsCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'lvs',
  describe: "List kib's volumes with their VM, size and whether the VM runs",
  handler: async (args) => {
    const ctx = contextOf(args);
    const volumes = await (await import('../../disks.ts')).lvList(ctx);
    if (ctx.json) return ctx.out(JSON.stringify(volumes.map(({ vg, lv, vm, sizeMiB, running }) => ({ vg, lv, vm, sizeMiB, running }))));
    for (const v of volumes) ctx.out(`${`${v.vg}/${v.lv}`.padEnd(24)} ${v.vm.padEnd(12)} ${String(v.sizeMiB).padStart(8)} MiB  ${v.running ? 'running' : 'stopped'}`);
  },
};
