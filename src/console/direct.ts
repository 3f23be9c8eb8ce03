// The console's backend for a host without a systemd user manager: it runs the
// supervisor itself, detached, as the unit would (the same argv, %t and %h filled in),
// and keeps its pid in the user's runtime directory. Only root chooses it, by giving
// kib-console `--supervise=FILE` (a root-owned file holding the argv as a JSON array):
// over SSH a VM owner cannot add arguments to the login shell. Autostart and the
// installer are systemd's; here they say so.
import { existsSync, mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KibError } from '../errors.ts';
import { spawnDetached } from '../exec.ts';
import { runtimeDirOf } from '../qemu/argv.ts';
import { SHUTDOWN_TIMEOUT } from '../resources/systemd.ts';
import type { PowerAction } from '../runtime/user-manager.ts';
import { consoleSocketOf } from '../runtime/console.ts';
import { needsSystemd, type VmControl, type VmState } from './control.ts';
import type { Self } from './identity.ts';
import { monitorCommand, monitorSocketOf } from './monitor.ts';

const POLL_MS = 100;

/** Reads the supervisor's argv from a JSON file; anything but an array of strings is refused. */
export async function readSupervisorArgv(file: string): Promise<string[]> {
  let argv: unknown;
  try {
    argv = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new KibError('usage', `--supervise: cannot read ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new KibError('usage', `--supervise: ${file} must hold the supervisor's argv as a JSON array of strings`);
  }
  return argv as string[];
}

/** The supervisor run directly: start, stop, kill and reset by signals and the monitor. */
export function directControl(self: Self, argv: string[]): VmControl {
  const name = self.name;
  const pidFile = path.join(self.runtimeDir, `kib-${name}.supervise.pid`);
  const logFile = path.join(self.runtimeDir, `kib-${name}.supervise.log`);
  const command = argv.map((a) => a.replace(/%t/g, self.runtimeDir).replace(/%h/g, self.home));

  /** The supervisor's pid while it runs. */
  const running = (): number | undefined => {
    const pid = Number(readText(pidFile).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return readText(`/proc/${pid}/cmdline`).includes('kib-supervise') ? pid : undefined;
  };

  const start = async (): Promise<string> => {
    if (running()) return `VM ${name} is already running`;
    const dir = runtimeDirOf(name, self.runtimeDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const log = openSync(logFile, 'a', 0o600);
    let pid: number;
    try {
      pid = spawnDetached(command[0], command.slice(1), log, { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: self.home, LC_ALL: 'C.UTF-8' });
    } finally {
      closeSync(log);
    }
    await writeFile(pidFile, `${pid}\n`, { mode: 0o600 });
    // Started means qemu listens: its serial console is there.
    const socket = consoleSocketOf(name, self.runtimeDir);
    const up = await waitFor(() => existsSync(socket) || !running(), 15_000);
    if (!up || !running()) {
      const last = readText(logFile).trim().split('\n').at(-1) ?? '';
      throw new KibError('system', `VM ${name} did not start${last ? `: ${last}` : ''}`);
    }
    return `started VM ${name}`;
  };

  /** Signals the supervisor and waits for it to go; false when it outlived the wait. */
  const stop = async (signal: NodeJS.Signals, seconds: number): Promise<boolean> => {
    const pid = running();
    if (!pid) return true;
    try {
      // SIGKILL goes to the whole group (qemu too), as systemd's kill would.
      process.kill(signal === 'SIGKILL' ? -pid : pid, signal);
    } catch {
      // gone already
    }
    const gone = await waitFor(() => !running(), seconds * 1000);
    if (gone) await rm(pidFile, { force: true });
    return gone;
  };

  return {
    async state(): Promise<VmState> {
      const pid = running();
      if (!pid) return { running: false, up: false, summary: 'not running', lines: [`VM ${name} is not running`] };
      return { running: true, up: true, summary: 'running', lines: [`VM ${name} is running`, `main PID: ${pid}`] };
    },
    async power(action: PowerAction) {
      if (action === 'start') return start();
      if (!running()) return `VM ${name} is not running`;
      if (action === 'kill') {
        await stop('SIGKILL', 10);
        return `killed VM ${name}`;
      }
      if (!(await stop('SIGTERM', SHUTDOWN_TIMEOUT + 30))) throw new KibError('system', `VM ${name} did not stop`);
      if (action === 'stop') return `stopped VM ${name}`;
      await start();
      return `restarted VM ${name}`;
    },
    async reset() {
      await monitorCommand(monitorSocketOf(name, self.runtimeDir), 'system_reset', { endsQemu: true });
      // What Restart=on-failure does for the unit: the supervisor ends, the VM starts again.
      if (!(await waitFor(() => !running(), 15_000))) throw new KibError('system', `VM ${name} did not reset`);
      await start();
      return `reset VM ${name}: it started again`;
    },
    autostart: async () => false,
    setAutostart: async () => needsSystemd('autostart'),
    installs: async () => [],
    startInstall: async () => needsSystemd('the installer'),
    killInstall: async () => needsSystemd('the installer'),
  };
}

/** A file's text, or '' when it cannot be read. */
function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Polls until `ok` holds or the time is up; whether it held. */
async function waitFor(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}
