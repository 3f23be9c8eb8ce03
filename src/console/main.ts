// kib-console: the login shell of every VM user, and all an SSH login as kib-NAME gets.
//   kib-console                  the menu (an interactive login)
//   kib-console -c COMMAND       one command, for scripts: `ssh kib-NAME@host status`
// It manages the VM of the user running it and nothing else; it refuses to run for any
// other user. It never starts a shell, pager or editor: its children are systemctl (with
// a pager-free, minimal environment) and nothing the owner names.
//
// Root may put options before -c, for hosts and tests that are not the real thing:
//   --root=DIR          kib's root (where passwd, the units and the config are)
//   --runtime-dir=DIR   the VM user's runtime directory (default /run/user/UID)
//   --supervise=FILE    run the supervisor directly (argv in FILE) instead of systemd
// sshd starts a login shell as `kib-console` or `kib-console -c COMMAND`: an SSH user can
// choose the COMMAND but no option, and the console reads no environment variable of
// the owner's (sshd may pass some on, see AcceptEnv), so these stay root's.
import os from 'node:os';
import { createContext, writeText } from '../context.ts';
import { KibError } from '../errors.ts';
import { loadConfig } from '../model/config.ts';
import { userRuntimeDirOf } from '../runtime/user-manager.ts';
import { parseConsoleArgs, requestedCommand, USAGE } from './args.ts';
import { messageOf, runLine, type Outcome, type Session } from './commands.ts';
import { systemdControl } from './control.ts';
import { directControl, readSupervisorArgv } from './direct.ts';
import { findSelf } from './identity.ts';
import { runMenu } from './session.ts';

/** Signals a terminal sends (^C, ^\, ^Z) and job control: none of them leaves the console. */
function ignoreTerminalSignals(): void {
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'] as const) process.on(signal, () => undefined);
}

const EXIT: Record<Outcome, number> = { ok: 0, quit: 0, failed: 1, usage: 2 };

/** The console from argv to exit status; errors are one line. */
export async function main(argv: string[]): Promise<number> {
  ignoreTerminalSignals();
  process.stdout.on('error', () => undefined);
  try {
    const args = parseConsoleArgs(argv);
    const uid = process.getuid!();
    const ctx = createContext({ root: args.root, live: false });
    const self = await findSelf(args.root, uid, userNameOf(), args.runtimeDir ?? userRuntimeDirOf(uid));
    const control = args.supervise ? directControl(self, await readSupervisorArgv(args.supervise)) : systemdControl(ctx, self);
    let isoDir: Promise<string> | undefined;
    const session: Session = {
      ctx,
      self,
      control,
      isoDir: () => (isoDir ??= loadConfig(args.root).then((c) => c.isoDir)),
      withTerminal: (run) => run(),
    };
    const command = requestedCommand(args.command, process.env.SSH_ORIGINAL_COMMAND);
    if (command !== undefined) return EXIT[await runLine(session, command)];
    return await runMenu(session, () => bannerOf(session));
  } catch (error) {
    writeText(2, `kib-console: ${messageOf(error)}\n`);
    return error instanceof KibError && error.code === 'usage' && error.message === USAGE ? 2 : 1;
  }
}

/** The login name of this process's uid, or '' when it has none. */
function userNameOf(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '';
  }
}

/** The greeting: which VM this is and how it is. */
async function bannerOf(s: Session): Promise<string[]> {
  const state = await s.control.state().then(
    (st) => st.summary,
    (error) => `in an unknown state (${messageOf(error)})`,
  );
  return [`kvm-in-a-box console of VM ${s.self.name}: it is ${state}`, "Type 'help' for the commands, 'quit' to leave."];
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Whatever the serial console or readline left referenced, the session is over.
  setImmediate(() => process.exit(code));
});
