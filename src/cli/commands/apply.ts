// kib apply: reconciles the host to the state as it is, after a crash or a hand edit.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

export const applyCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'apply',
  describe: 'Reconcile the host to the desired state',
  handler: async (args) => {
    const ctx = contextOf(args);
    const { applyAll } = await import('../../vms.ts');
    printResult(ctx, await applyAll(ctx), {});
  },
};
