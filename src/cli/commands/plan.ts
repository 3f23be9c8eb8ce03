// kib plan: the unified diff of every file a reconcile would change; writes nothing.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

export const planCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'plan',
  describe: 'Show what apply would change, as unified diffs',
  handler: async (args) => {
    const ctx = contextOf({ ...args, dryRun: true });
    const { reconcile } = await import('../../reconcile.ts');
    printResult(ctx, await reconcile(ctx), {});
  },
};
