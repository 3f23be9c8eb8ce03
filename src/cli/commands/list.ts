// kib list: the names of all VMs.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { readStateFile, vmNames } from '../../model/state.ts';
import { readLegacyState } from '../../model/legacy.ts';

export const listCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'list',
  describe: 'Print the names of all VMs',
  handler: async (args) => {
    const ctx = contextOf(args);
    const file = await readStateFile(ctx.root);
    // A host still on the original kvm-in-a-box state lists its VMs before migrating.
    const legacy = file ? undefined : await readLegacyState(ctx.root);
    const names = file ? vmNames(file.state) : Object.keys((legacy?.vms as object | undefined) ?? {}).sort();
    if (ctx.json) ctx.out(JSON.stringify(names));
    else for (const name of names) ctx.out(name);
  },
};
