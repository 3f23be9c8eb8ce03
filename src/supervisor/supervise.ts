// The supervisor: runs a VM's qemu and drives it over QMP (qemu's -qmp stdio), as the
// main process of the VM's systemd user unit (kib-supervise, src/supervisor/main.ts) and
// of its installer (kib-install). Importing it has no side effects.
//   kib-supervise [--timeout=SECONDS] [--iso-dir=DIR --medium-file=FILE] -- QEMU ARGS...
// The medium file names the ISO of DIR to insert in the CD drive before the guest runs.
// SIGTERM asks the guest to power off (ACPI system_powerdown); a guest still up after the
// timeout gets `quit`, and qemu is killed if even that fails. QMP events go to stdout for
// the journal. The exit status tells systemd's Restart=on-failure what happened:
//   0 the guest powered off; 1 qemu failed or died; 2 forced to quit; 3 the guest reset
//   (or was reset from the monitor).
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CDROM_DEVICE, parseMediumFile } from '../qemu/cdrom.ts';
import { Qmp, type QmpMessage } from './qmp.ts';

export const EXIT = { poweredOff: 0, died: 1, forced: 2, reset: 3 } as const;
/** After `quit`, how long qemu may take before it is killed. */
const KILL_AFTER_MS = 5000;

/** One line of what happened, for the journal. */
function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const USAGE = 'usage: kib-supervise [--timeout=SECONDS] [--iso-dir=DIR --medium-file=FILE] -- QEMU ARGS...';

/** Reads the options and qemu's argv; a bad option is an error naming the usage. */
function parseArgs(argv: string[]): { timeout: number; qemu: string[]; isoDir?: string; mediumFile?: string } {
  const split = argv.indexOf('--');
  const options = split === -1 ? [] : argv.slice(0, split);
  const qemu = split === -1 ? argv : argv.slice(split + 1);
  const parsed: { timeout: number; qemu: string[]; isoDir?: string; mediumFile?: string } = { timeout: 90, qemu };
  for (const o of options) {
    // The medium file may name a path that is not there (no medium): run outside systemd,
    // its %h is not expanded.
    const m = /^--(timeout=(\d{1,5})|iso-dir=(\/.*)|medium-file=(.+))$/.exec(o);
    if (!m) throw new Error(`unknown option '${o}'; ${USAGE}`);
    if (m[2] !== undefined) parsed.timeout = Number(m[2]);
    if (m[3] !== undefined) parsed.isoDir = m[3];
    if (m[4] !== undefined) parsed.mediumFile = m[4];
  }
  if (qemu.length === 0) throw new Error(`no qemu command line; ${USAGE}`);
  return parsed;
}

/**
 * The ISO recorded for the CD drive (the owner's console writes the file), if it names a
 * file of the library that is there; anything else in the file is ignored.
 */
function recordedMedium(isoDir: string | undefined, mediumFile: string | undefined): string | undefined {
  if (!isoDir || !mediumFile) return undefined;
  let name: string | undefined;
  try {
    name = parseMediumFile(readFileSync(mediumFile, 'utf8'));
  } catch {
    return undefined;
  }
  const file = name && path.join(isoDir, name);
  return file && statSync(file, { throwIfNoEntry: false })?.isFile() ? file : undefined;
}

/** Runs qemu to its end, the signals handled as above; resolves to the exit status. */
export function supervise(argv: string[]): Promise<number> {
  const { timeout, qemu, isoDir, mediumFile } = parseArgs(argv);
  // With a medium, qemu starts paused (-S) until it is in the drive, so that the guest's
  // firmware already sees it.
  const medium = recordedMedium(isoDir, mediumFile);
  const args = medium ? ['-S', ...qemu.slice(1)] : qemu.slice(1);
  const child = spawn(qemu[0], args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const qmp = new Qmp(child.stdout!, child.stdin!);
  let shutdownReason: string | undefined;
  let stopping = false;
  let forced = false;
  const timers: NodeJS.Timeout[] = [];

  qmp.on('ready', () => {
    log('qmp: connected');
    if (!medium) return;
    log(`cdrom: ${medium}`);
    qmp.send('blockdev-change-medium', { id: CDROM_DEVICE, filename: medium, format: 'raw', 'read-only-mode': 'read-only' });
    qmp.send('cont');
  });
  qmp.on('event', (m: QmpMessage) => {
    log(`qmp event ${m.event}${m.data ? ` ${JSON.stringify(m.data)}` : ''}`);
    if (m.event === 'SHUTDOWN') shutdownReason = String(m.data?.reason ?? '');
  });
  qmp.on('reply', (m: QmpMessage) => {
    if (m.error) log(`qmp error ${m.error.class}: ${m.error.desc}`);
  });
  qmp.on('garbage', (line: string) => log(`qmp: ignored '${line.slice(0, 80)}'`));

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: asking the guest to power off (ACPI), ${timeout}s to do so`);
    qmp.send('system_powerdown');
    timers.push(
      setTimeout(() => {
        forced = true;
        log(`the guest did not power off within ${timeout}s: quit`);
        qmp.send('quit');
        timers.push(setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS));
      }, timeout * 1000),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  return new Promise((resolve) => {
    child.on('error', (error) => {
      log(`cannot start ${qemu[0]}: ${error.message}`);
      resolve(EXIT.died);
    });
    child.on('exit', (code, signal) => {
      timers.forEach(clearTimeout);
      if (forced) {
        log('qemu stopped by force');
        resolve(EXIT.forced);
      } else if (signal) {
        log(`qemu died (${signal})`);
        resolve(EXIT.died);
      } else if (shutdownReason === 'guest-reset' || shutdownReason === 'host-qmp-system-reset') {
        log('the guest reset: exiting so that the unit restarts the VM');
        resolve(EXIT.reset);
      } else if (code === 0 && shutdownReason === 'guest-shutdown') {
        log('the guest powered off');
        resolve(EXIT.poweredOff);
      } else {
        log(`qemu exited with status ${code}${shutdownReason ? ` (${shutdownReason})` : ''}`);
        resolve(EXIT.died);
      }
    });
  });
}
