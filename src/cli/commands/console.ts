// kib console NAME: the terminal on a VM's serial console; ^] leaves.
import type { CommandModule } from 'yargs';
import { KibError } from '../../errors.ts';
import { contextOf, type GlobalArgs } from '../options.ts';

type Args = GlobalArgs & { name: string; wait: number; runtimeDir?: string };

export const consoleCommand: CommandModule<GlobalArgs, Args> = {
  command: 'console <name>',
  describe: "Attach to a VM's serial console (^] leaves)",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'VM name' })
      .option('wait', { type: 'number', default: 30, describe: 'Seconds to wait for the console while the VM starts (0: not at all)' })
      .option('runtime-dir', {
        type: 'string',
        describe: "The VM user's runtime directory, where the console socket kib-NAME/ttyS0.sock is (default /run/user/UID)",
      })
      .epilog(
        'On a terminal every key goes to the guest and ^] (Ctrl+]) leaves.\n' +
          'With stdin not a terminal it copies both ways until stdin ends or the VM stops.',
      ) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const wait = args.wait;
    if (Array.isArray(wait) || typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0 || wait > 86400) {
      throw new KibError('usage', '--wait takes seconds, 0 to 86400');
    }
    if (Array.isArray(args.runtimeDir) || args.runtimeDir === '') throw new KibError('usage', '--runtime-dir takes one directory');
    const { attachConsole } = await import('../../runtime/console.ts');
    await attachConsole(ctx, String(args.name), { waitSeconds: wait, runtimeDir: args.runtimeDir });
  },
};
