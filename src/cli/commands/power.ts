// kib start|stop|restart|kill|status NAME: a VM's unit, through its user's systemd instance.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';
import type { PowerAction } from '../../runtime/user-manager.ts';

type Args = GlobalArgs & { name: string };

const named = { type: 'string', demandOption: true, describe: 'VM name' } as const;

/** One command per action; they differ only in the action and their help. */
function powerCommand(action: PowerAction, describe: string, epilog: string): CommandModule<GlobalArgs, Args> {
  return {
    command: `${action} <name>`,
    describe,
    builder: (y) => y.positional('name', named).epilog(epilog) as never,
    handler: async (args) => {
      const ctx = contextOf(args);
      const { vmRuntime, powerVm } = await import('../../runtime/user-manager.ts');
      const { changed, message } = await powerVm(ctx, await vmRuntime(ctx, String(args.name)), action);
      if (ctx.json) ctx.out(JSON.stringify({ name: args.name, action, changed, message }));
      else if (ctx.verbosity !== 'quiet') ctx.out(message);
    },
  };
}

const THROUGH = "Acts through the VM user's systemd instance (systemctl --user as kib-NAME),\nwhich must be running.";

export const startCommand = powerCommand('start', 'Start a VM (its unit kib-NAME.service)', `${THROUGH} Starting a running VM does nothing.`);
export const stopCommand = powerCommand(
  'stop',
  'Stop a VM gracefully: ACPI power-off, then quit after the shutdown timeout',
  `${THROUGH} Waits until the VM is down.`,
);
export const restartCommand = powerCommand('restart', 'Stop a VM gracefully and start it again', THROUGH);
export const killCommand = powerCommand(
  'kill',
  'Hard stop: SIGKILL to the VM at once, like pulling the plug (the guest gets no shutdown)',
  `${THROUGH}\nUse stop for a clean shutdown: after a kill the guest's file systems may need repair.`,
);

export const statusCommand: CommandModule<GlobalArgs, Args> = {
  command: 'status <name>',
  describe: "Whether a VM runs: its unit's state, main PID and since when",
  builder: (y) => y.positional('name', named).epilog(`${THROUGH}\nExits 0 whether the VM runs or not; --json for scripts.`) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const { vmRuntime, checkUserManager, unitStatus, formatStatus } = await import('../../runtime/user-manager.ts');
    const vm = await vmRuntime(ctx, String(args.name));
    checkUserManager(vm);
    const status = await unitStatus(vm);
    if (ctx.json) ctx.out(JSON.stringify(status, null, 2));
    else for (const line of formatStatus(status)) ctx.out(line);
  },
};
