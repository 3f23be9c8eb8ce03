// kib create NAME: declares a VM, allocates its uid, MAC, IPv4 and display port, and
// renders its resources.
import type { CommandModule } from 'yargs';
import { contextOf, vmFlags, vmFlagsOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

type Args = GlobalArgs & { name: string };

export const createCommand: CommandModule<GlobalArgs, Args> = {
  command: 'create <name>',
  describe: 'Create a new VM',
  builder: (y) => vmFlags(y.positional('name', { type: 'string', demandOption: true, describe: 'VM name: 1-11 lowercase letters and digits' })) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const { createVm } = await import('../../vms.ts');
    const result = await createVm(ctx, String(args.name), vmFlagsOf(args));
    const vm = result.state.vms[args.name];
    const volumes = vm.storage === 'lvm' ? `; create its volume with: kib lv create ${args.name} ${vm.diskMiB}M` : '';
    printResult(ctx, result, { vm: { name: args.name, ...vm } }, ctx.dryRun ? undefined : `VM ${args.name}: user kib-${args.name} (uid ${vm.uid}), MAC ${vm.mac}, IPv4 ${vm.ipv4}${volumes}`);
  },
};
