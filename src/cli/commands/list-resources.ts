// kib list-resources: every host path kib manages for the current state.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';

export const listResourcesCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'list-resources',
  describe: 'Print all resource paths',
  handler: async (args) => {
    const ctx = contextOf(args);
    const { resourcePaths } = await import('../../vms.ts');
    const paths = await resourcePaths(ctx);
    if (ctx.json) ctx.out(JSON.stringify(paths));
    else for (const p of paths) ctx.out(p);
  },
};
