// kib-console's command line (see main.ts): root's options, then at most `-c COMMAND`.
import { KibError } from '../errors.ts';
import { CONSOLE_SHELL } from '../resources/users.ts';

export interface ConsoleArgs {
  root: string;
  runtimeDir?: string;
  supervise?: string;
  /** The one command to run; undefined for the menu. */
  command?: string;
}

export const USAGE = 'usage: kib-console [-c COMMAND]';

/** Reads kib-console's argv: root's options first, then at most `-c COMMAND`. */
export function parseConsoleArgs(argv: string[]): ConsoleArgs {
  const args: ConsoleArgs = { root: '/' };
  let i = 0;
  for (; i < argv.length; i++) {
    const m = /^--(root|runtime-dir|supervise)=(\/.*)$/.exec(argv[i]);
    if (!m) break;
    if (m[1] === 'root') args.root = m[2];
    else if (m[1] === 'runtime-dir') args.runtimeDir = m[2];
    else args.supervise = m[2];
  }
  const rest = argv.slice(i);
  if (rest.length === 2 && rest[0] === '-c') args.command = rest[1];
  else if (rest.length !== 0) throw new KibError('usage', USAGE);
  return args;
}

/**
 * The command a session asked for. sshd runs a ForceCommand (kib's is the console itself)
 * as `SHELL -c FORCECOMMAND` and leaves the client's command in SSH_ORIGINAL_COMMAND.
 */
export function requestedCommand(command: string | undefined, original: string | undefined): string | undefined {
  const asked = command === CONSOLE_SHELL ? original : command;
  return asked === undefined || asked.trim() === '' ? undefined : asked;
}

