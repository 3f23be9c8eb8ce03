// kib list: the names of all VMs.
import type { CommandModule } from 'yargs';
import type { Context } from '../../context.ts';
import { contextOf, type GlobalArgs } from '../options.ts';
import { readStateFile, vmNames } from '../../model/state.ts';

export const listCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'list',
  describe: 'Print the names of all VMs',
  handler: (args) => listVms(contextOf(args)),
};

/** Prints the VM names; a host still on the original kvm-in-a-box state lists its VMs before migrating. */
export async function listVms(ctx: Context): Promise<void> {
  const file = await readStateFile(ctx.root);
  const legacy = file ? undefined : await (await import('../../model/legacy.ts')).readLegacyState(ctx.root);
  const names = file ? vmNames(file.state) : Object.keys((legacy?.vms as object | undefined) ?? {}).sort();
  if (ctx.json) ctx.out(JSON.stringify(names));
  else for (const name of names) ctx.out(name);
}
