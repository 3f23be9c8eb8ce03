// kib teardown: the inverse of setup, once no VM is left. kib's part of every shared file
// goes, its own files and state go, and the live host drops its bridges and firewall rules.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

export const teardownCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'teardown',
  describe: "Undo setup once no VM is left: remove kib's host configuration and state",
  handler: async (args) => {
    const ctx = contextOf(args);
    const { reconcile } = await import('../../reconcile.ts');
    const result = await reconcile(ctx, { teardown: true });
    const summary = ctx.dryRun ? undefined : 'kib is torn down: run kib setup to use it again';
    printResult(ctx, result, { state: result.extra ?? [] }, summary);
  },
};
