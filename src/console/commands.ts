// The console's commands: one line in, one result out. Every line is checked at this
// boundary (printable ASCII, bounded length) and split into words; no word ever reaches
// a shell, and the few arguments there are (an ISO name, a preseed file name) are plain
// file names checked before use. Nothing here names another VM: the console has one.
import type { Context } from '../context.ts';
import { KibError } from '../errors.ts';
import { printable } from '../model/validate.ts';
import { consoleSocketOf, attachConsoleSocket } from '../runtime/console.ts';
import { installing, type VmControl } from './control.ts';
import type { Self } from './identity.ts';
import { checkNotInstalling, installStatus, killInstall, startInstall } from './install.ts';
import { attachIso, detachIso, listIsos, recordedMedium } from './media.ts';

/** Longer lines are refused whole: no command needs more. */
export const MAX_LINE = 256;
/** Seconds `console` waits for the serial console of a VM that is starting. */
const CONSOLE_WAIT = 30;

/** What a command line needs to act: the VM, how to act on it, and the ISO library. */
export interface Session {
  ctx: Context;
  self: Self;
  control: VmControl;
  /** The ISO library's directory (from the host config, read when first needed). */
  isoDir(): Promise<string>;
  /** Runs the serial console with the terminal to itself (the menu lends it its input). */
  withTerminal(run: () => Promise<void>): Promise<void>;
}

/** How a line ended: done, failed, not understood, or the session is over. */
export type Outcome = 'ok' | 'failed' | 'usage' | 'quit';

interface Command {
  names: string[];
  /** The arguments as help shows them. */
  args: string;
  help: string;
  /** Whether the arguments fit (their count and fixed words); values are checked by the command. */
  accepts: (args: string[]) => boolean;
  run: (s: Session, args: string[]) => Promise<string[] | 'quit'>;
}

const none = (args: string[]) => args.length === 0;

/** Whether the VM runs; false when that cannot be known (no user manager: nothing runs). */
async function runningNow(s: Session): Promise<boolean> {
  return (await s.control.state().catch(() => undefined))?.running ?? false;
}

const COMMANDS: Command[] = [
  {
    names: ['status'],
    args: '',
    help: 'whether the VM runs, autostart, its CD',
    accepts: none,
    run: async (s) => {
      const state = await s.control.state();
      const lines = [...state.lines];
      lines.push(`autostart: ${(await s.control.autostart()) ? 'yes (starts at boot)' : 'no'}`);
      lines.push(`CD:       ${(await recordedMedium(s.self)) ?? 'none'}`);
      for (const run of (await s.control.installs()).filter(installing)) lines.push(`install:  ${run.instance} is running (status-install)`);
      return lines;
    },
  },
  {
    names: ['start'],
    args: '',
    help: 'start the VM',
    accepts: none,
    run: async (s) => {
      await checkNotInstalling(s.self, s.control);
      return [await s.control.power('start')];
    },
  },
  {
    names: ['stop', 'shutdown'],
    args: '',
    help: 'shut down cleanly (ACPI power button)',
    accepts: none,
    run: async (s) => [await s.control.power('stop')],
  },
  {
    names: ['reboot'],
    args: '',
    help: 'shut down cleanly (ACPI), then start',
    accepts: none,
    run: async (s) => {
      const state = await s.control.state();
      if (!state.up) return [`VM ${s.self.name} is not running (start starts it)`];
      return [await s.control.power('restart')];
    },
  },
  {
    names: ['reset'],
    args: '',
    help: 'hard reset: restart at once, no shutdown',
    accepts: none,
    run: async (s) => {
      if (!(await s.control.state()).running) return [`VM ${s.self.name} is not running`];
      return [await s.control.reset()];
    },
  },
  {
    names: ['kill'],
    args: '',
    help: 'pull the plug: stop at once, no shutdown',
    accepts: none,
    run: async (s) => [await s.control.power('kill')],
  },
  {
    names: ['enable'],
    args: '',
    help: 'start the VM when the host boots',
    accepts: none,
    run: async (s) => [await s.control.setAutostart(true)],
  },
  {
    names: ['disable'],
    args: '',
    help: 'do not start it when the host boots',
    accepts: none,
    run: async (s) => [await s.control.setAutostart(false)],
  },
  {
    names: ['console'],
    args: '',
    help: 'the serial console; ^] comes back here',
    accepts: none,
    run: async (s) => {
      const state = await s.control.state().catch(() => undefined);
      const busy = (await s.control.installs().catch(() => [])).some(installing);
      const wait = state?.up || busy ? CONSOLE_WAIT : 0;
      await s.withTerminal(() => attachConsoleSocket(s.ctx, s.self.name, consoleSocketOf(s.self.name, s.self.runtimeDir), wait));
      return [];
    },
  },
  {
    names: ['attach-iso'],
    args: '[ISO]',
    help: 'insert an ISO from the library (none: list)',
    accepts: (args) => args.length <= 1,
    run: async (s, args) => {
      const isoDir = await s.isoDir();
      if (args.length === 0) {
        const isos = await listIsos(isoDir);
        return isos.length === 0 ? ['the ISO library is empty (the host\'s administrator fills it)'] : ['ISOs in the library (attach-iso ISO):', ...isos.map((i) => `  ${i}`)];
      }
      return [await attachIso(s.self, isoDir, args[0], await runningNow(s))];
    },
  },
  {
    names: ['detach-iso'],
    args: '',
    help: 'eject the CD',
    accepts: none,
    run: async (s) => [await detachIso(s.self, await runningNow(s))],
  },
  {
    names: ['display'],
    args: '',
    help: 'how to reach the graphical console',
    accepts: none,
    run: async (s) => [`VM ${s.self.name} has no graphical console: it runs with a serial console only (console)`],
  },
  {
    names: ['install'],
    args: 'debian auto|FILE',
    help: 'install Debian (preseed FILE from home)',
    accepts: (args) => args.length === 2 && args[0] === 'debian',
    run: async (s, args) => [await startInstall(s.self, s.control, args[1])],
  },
  {
    names: ['status-install'],
    args: '',
    help: 'whether the install runs',
    accepts: none,
    run: async (s) => installStatus(s.self, s.control),
  },
  {
    names: ['kill-install'],
    args: '',
    help: 'stop the install at once',
    accepts: none,
    run: async (s) => [await killInstall(s.self, s.control)],
  },
  { names: ['help'], args: '', help: 'this list', accepts: () => true, run: async () => helpLines() },
  { names: ['quit', 'exit'], args: '', help: 'leave', accepts: none, run: async () => 'quit' },
];

/** Every command with its arguments and what it does, one line each. */
export function helpLines(): string[] {
  const usage = (c: Command) => `${c.names.join(' | ')}${c.args ? ` ${c.args}` : ''}`;
  const width = Math.max(...COMMANDS.map((c) => usage(c).length));
  return COMMANDS.map((c) => `  ${usage(c).padEnd(width)}  ${c.help}`);
}

/** The command words, for completion. */
export const commandWords = (): string[] => COMMANDS.flatMap((c) => c.names);

export const TOO_LONG = `line too long (more than ${MAX_LINE} characters): ignored`;

/** Why a line is refused before it is read as a command, or undefined. */
export function lineProblem(line: string): string | undefined {
  if (line.length > MAX_LINE) return TOO_LONG;
  // eslint-disable-next-line no-control-regex
  if (!/^[\x20-\x7e\t]*$/.test(line)) return 'binary input ignored: commands are plain text (help lists them)';
  return undefined;
}

/** Runs one command line: the result on stdout, a failure as one line on stderr. */
export async function runLine(s: Session, line: string): Promise<Outcome> {
  const problem = lineProblem(line);
  if (problem) {
    s.ctx.err(problem);
    return 'usage';
  }
  const words = line.trim().split(/[ \t]+/).filter(Boolean);
  if (words.length === 0) return 'ok';
  const command = COMMANDS.find((c) => c.names.includes(words[0]));
  if (!command) {
    s.ctx.err(`unknown command '${printable(words[0].slice(0, 40))}'; the commands are:`);
    for (const l of helpLines()) s.ctx.out(l);
    return 'usage';
  }
  const args = words.slice(1);
  if (!command.accepts(args)) {
    s.ctx.err(`usage: ${command.names[0]}${command.args ? ` ${command.args}` : ''}${command.args ? '' : ' (no arguments)'}`);
    return 'usage';
  }
  try {
    const result = await command.run(s, args);
    if (result === 'quit') return 'quit';
    for (const l of result) s.ctx.out(l);
    return 'ok';
  } catch (error) {
    s.ctx.err(messageOf(error));
    return error instanceof KibError && ['usage', 'not-found'].includes(error.code) ? 'usage' : 'failed';
  }
}

/** Any error as one line. */
export function messageOf(error: unknown): string {
  const text = error instanceof KibError ? error.message : error instanceof Error ? error.message : String(error);
  return text.split('\n')[0];
}
