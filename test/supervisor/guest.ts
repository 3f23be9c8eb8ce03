// The tiny tcg test guest (test/guest/build.sh) declared with kib and run as kib runs it:
// kib-supervise with the argv `kib info NAME --json` shows, as the VM's own user, its
// runtime directory (systemd's %t) a temp directory.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { installed, kibOk, needed, read, REPO } from '../helpers.ts';

export const GUEST = path.join(REPO, '.cache', 'guest');
export const SUPERVISE = path.join(REPO, 'dist', 'kib-supervise.cjs');

/** Builds (or finds cached) the test guest; false where qemu is missing outside CI. */
export function guest(): boolean {
  if (!installed('qemu-system-x86_64')) return false;
  return needed(spawnSync('bash', [path.join(REPO, 'test/guest/build.sh'), GUEST], { stdio: 'inherit' }).status === 0, 'the test guest');
}

/**
 * Sets up kib on a root and declares a VM that boots the test guest under tcg; prepares
 * `run` as its user's runtime directory. Returns the supervisor's arguments (after the
 * program) with %t replaced by `run`, and the VM's uid.
 */
export function declareGuestVm(root: string, name: string, run: string, append = 'console=ttyS0 quiet panic=-1'): { args: string[]; uid: number } {
  writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}storage = none\n`);
  kibOk(root, 'setup');
  kibOk(root, 'create', name, '--accel', 'tcg', '--mem', '256', '--kernel', path.join(GUEST, 'vmlinuz'), '--initrd', path.join(GUEST, 'initrd.gz'), '--append', append);
  const { argv, uid } = JSON.parse(kibOk(root, 'info', name, '--json').stdout) as { argv: string[]; uid: number };
  mkdirSync(path.join(run, `kib-${name}`));
  chownSync(run, uid, uid);
  chownSync(path.join(run, `kib-${name}`), uid, uid);
  return { args: argv.slice(1).map((a) => a.replace(/%t/g, run)), uid };
}

/** Starts the supervisor as the VM's user (setpriv), as its systemd unit would. */
export function superviseAsUser(args: string[], uid: number) {
  return spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, SUPERVISE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Polls until `ok` holds or the time is up; returns whether it held. */
export async function until(ok: () => boolean, ms = 60_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return ok();
}

/** Reads a serial socket from the moment it appears until qemu closes it (the guest powered off) or time runs out. */
export function readSerial(socket: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const deadline = Date.now() + ms;
    const attempt = () => {
      const c = net.connect(socket);
      let connected = false;
      c.on('connect', () => (connected = true));
      c.on('data', (d) => (out += d));
      // A failed attempt closes too: only the close of a real connection ends the read.
      c.on('close', () => (connected ? resolve(out) : Date.now() < deadline ? setTimeout(attempt, 10) : resolve(out)));
      c.on('error', () => undefined);
    };
    attempt();
    setTimeout(() => resolve(out), ms).unref();
  });
}
