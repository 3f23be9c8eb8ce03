// kib-install: the main process of a VM's install unit (kib-NAME-install@INSTANCE.service),
// run as the VM's user. INSTANCE is `auto` (the packaged preseed file) or the name of a
// preseed file in the VM user's home directory.
//   kib-install [--root=DIR] [--runtime-dir=DIR] [--timeout=SECONDS] NAME INSTANCE -- QEMU ARGS...
// Exits 0 when the installer finished, non-zero with a one-line reason on stderr otherwise.
import { exitCodeOf, KibError } from '../errors.ts';
import { installVm, type InstallRequest } from './install.ts';

const USAGE = 'usage: kib-install [--root=DIR] [--runtime-dir=DIR] [--timeout=SECONDS] NAME auto|PRESEED -- QEMU ARGS...';

/** Reads the command line; options come first, each as --option=VALUE. */
function parseArgs(argv: string[]): Omit<InstallRequest, 'log'> {
  const split = argv.indexOf('--');
  const head = split === -1 ? argv : argv.slice(0, split);
  const qemu = split === -1 ? [] : argv.slice(split + 1);
  const uid = process.getuid?.() ?? 0;
  const request = { root: '/', runtimeRoot: process.env.XDG_RUNTIME_DIR || `/run/user/${uid}`, timeout: 10, name: '', instance: '', qemu };
  let i = 0;
  for (; i < head.length && head[i].startsWith('--'); i++) {
    const m = /^--(root|runtime-dir|timeout)=(.+)$/.exec(head[i]);
    if (!m) throw new KibError('usage', `unknown option '${head[i]}'; ${USAGE}`);
    if (m[1] === 'timeout') {
      if (!/^\d{1,5}$/.test(m[2])) throw new KibError('usage', `--timeout wants whole seconds; ${USAGE}`);
      request.timeout = Number(m[2]);
    } else if (!m[2].startsWith('/')) {
      throw new KibError('usage', `--${m[1]} wants an absolute path; ${USAGE}`);
    } else if (m[1] === 'root') request.root = m[2];
    else request.runtimeRoot = m[2];
  }
  const positional = head.slice(i);
  if (positional.length !== 2) throw new KibError('usage', `expected a VM name and auto or a preseed file name; ${USAGE}`);
  [request.name, request.instance] = positional;
  return request;
}

/** Runs one install: the one place that turns an error into a line and an exit status. */
async function main(): Promise<number> {
  try {
    await installVm({ ...parseArgs(process.argv.slice(2)), log: (line) => process.stdout.write(`${line}\n`) });
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`kib-install: ${message.split('\n')[0]}\n`);
    return exitCodeOf(error) || 1;
  }
}

main().then((code) => process.exit(code));
