// kib list: the names of all VMs.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { readStateFile, vmNames } from '../../model/state.ts';

export const listCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'list',
  describe: 'Print the names of all VMs',
  handler: async (args) => {
    const ctx = contextOf(args);
    const file = await readStateFile(ctx.root);
    const names = file ? vmNames(file.state) : [];
    if (ctx.json) ctx.out(JSON.stringify(names));
    else for (const name of names) ctx.out(name);
  },
};
