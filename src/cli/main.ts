// The kib entry point, and the one place that turns errors into messages and exit
// statuses. Nothing else exits the process.
import { createContext, writeText } from '../context.ts';
import { exitCodeOf, KibError } from '../errors.ts';
import { listVms } from './commands/list.ts';
import { checkRoot } from './options.ts';

/**
 * `kib list` is what scripts and shell prompts run most: plain invocations of it
 * (only --root, --json, -q and -v besides) skip loading the full command line parser.
 * Anything else, --help included, goes through yargs.
 */
function fastList(argv: string[]): { root: string; json: boolean } | undefined {
  let root = '/';
  let json = false;
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--root' && i + 1 < argv.length && !argv[i + 1].startsWith('-')) root = argv[++i];
    else if (arg.startsWith('--root=')) root = arg.slice('--root='.length);
    else if (arg === '--json') json = true;
    else if (arg === '-q' || arg === '--quiet' || arg === '-v' || arg === '--verbose') continue;
    else if (arg === 'list' && command === undefined) command = arg;
    else return undefined;
  }
  return command === 'list' ? { root, json } : undefined;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const fast = fastList(argv);
    if (fast) {
      checkRoot(fast.root);
      await listVms(createContext(fast));
    }
    else await (await import('./cli.ts')).buildCli(argv).parseAsync();
    return 0;
  } catch (caught) {
    const error = asKibError(caught);
    const message = error instanceof KibError ? error.message : `internal error: ${(error as Error)?.stack ?? error}`;
    writeText(2, `kib: ${message.split('\n')[0]}${error instanceof KibError ? '' : `\n${message.split('\n').slice(1).join('\n')}`}\n`);
    return exitCodeOf(error);
  }
}

/** A failed system call (a file that cannot be read, say) is a one-line error like any other. */
function asKibError(error: unknown): unknown {
  const e = error as NodeJS.ErrnoException;
  if (e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string') {
    return new KibError('system', e.message.split('\n')[0], { cause: e });
  }
  return error;
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
