// kib setup: the host-wide configuration (groups, sshd block, bridges, firewall, dnsmasq,
// sysctl) and an empty state, ready for VMs.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import { printResult } from '../output.ts';

export const setupCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'setup',
  describe: 'Perform initial host configuration',
  handler: async (args) => {
    const ctx = contextOf(args);
    const { reconcile } = await import('../../reconcile.ts');
    const result = await reconcile(ctx, { setup: true });
    printResult(ctx, result, {});
  },
};
