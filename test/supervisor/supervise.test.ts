// kib-supervise with real qemu (tcg) and the test guest: SIGTERM powers the guest off by
// ACPI (exit 0); a guest deaf to the power button is quit after the timeout (exit 2); a
// guest reset (3) and qemu killed (1) exit non-zero so that Restart=on-failure restarts
// the VM. With the argv kib renders, run as the VM's user, qemu's threads are in seccomp
// filter mode.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, read, rootFromFixture, tempDir } from '../helpers.ts';
import { declareGuestVm, GUEST, guest, SUPERVISE } from './guest.ts';

/** A plain qemu command line for the guest, its serial console in a file. */
function qemu(dir: string, mode: string): string[] {
  return ['qemu-system-x86_64', '-machine', 'pc,accel=tcg', '-cpu', 'max', '-m', '256', '-nodefaults', '-no-user-config', '-no-reboot',
    '-display', 'none', '-chardev', `file,id=s0,path=${path.join(dir, 'serial.log')}`, '-serial', 'chardev:s0', '-qmp', 'stdio',
    '-kernel', path.join(GUEST, 'vmlinuz'), '-initrd', path.join(GUEST, 'initrd.gz'), '-append', `console=ttyS0 quiet panic=-1 ${mode}`];
}

/** Runs the supervisor; `act` runs once the guest is up. Returns its exit status and log. */
async function supervise(args: string[], serialLog: string, act: (pid: number) => void, prefix: string[] = []): Promise<{ code: number | null; out: string }> {
  const child = spawn(prefix.length ? prefix[0] : process.execPath, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), SUPERVISE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(existsSync(serialLog) && readFileSync(serialLog, 'utf8').includes('KIB-GUEST-READY'))) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // The guest's ACPI button driver settles a moment after userspace starts.
  await new Promise((r) => setTimeout(r, 1500));
  act(child.pid!);
  return { code: await done, out };
}

/** Appends what a serial socket says to a file, connecting as soon as the socket is there. */
function copySerial(socket: string, file: string): { stop: () => void } {
  let client: net.Socket | undefined;
  let stopped = false;
  const attempt = () => {
    if (stopped) return;
    const c = net.connect(socket);
    c.on('data', (d) => appendFileSync(file, d));
    c.on('error', () => setTimeout(attempt, 20));
    client = c;
  };
  attempt();
  return {
    stop: () => {
      stopped = true;
      client?.destroy();
    },
  };
}

const qemuOf = (pid: number): number | undefined => {
  const r = spawnSync('pgrep', ['-P', String(pid), 'qemu-system']);
  return r.stdout ? Number(String(r.stdout).trim().split('\n')[0]) || undefined : undefined;
};

test('SIGTERM: the guest powers off through ACPI and the supervisor exits 0', async () => {
  if (!guest()) return;
  const dir = tempDir();
  try {
    const r = await supervise(['--timeout=30', '--', ...qemu(dir, '')], path.join(dir, 'serial.log'), (pid) => process.kill(pid, 'SIGTERM'));
    assert.is(r.code, 0, r.out);
    assert.match(r.out, /qmp event POWERDOWN/);
    assert.match(r.out, /qmp event SHUTDOWN \{"guest":true,"reason":"guest-shutdown"\}/);
    assert.match(read(dir, 'serial.log'), /KIB-GUEST-POWEROFF/);
  } finally {
    cleanup(dir);
  }
});

test('a guest that ignores the power button is quit after the timeout: reported, non-zero', async () => {
  if (!guest()) return;
  const dir = tempDir();
  try {
    const r = await supervise(['--timeout=2', '--', ...qemu(dir, 'kibguest=deaf')], path.join(dir, 'serial.log'), (pid) => process.kill(pid, 'SIGTERM'));
    assert.is(r.code, 2, r.out);
    assert.match(r.out, /the guest did not power off within 2s: quit/);
  } finally {
    cleanup(dir);
  }
});

test('a guest reboot and a crashed qemu end the supervisor non-zero', async () => {
  if (!guest()) return;
  const dir = tempDir();
  try {
    const reset = await supervise(['--', ...qemu(dir, 'kibguest=reboot')], path.join(dir, 'serial.log'), () => undefined);
    assert.is(reset.code, 3, reset.out);
    assert.match(reset.out, /"reason":"guest-reset"/);
    writeFileSync(path.join(dir, 'serial.log'), '');
    const killed = await supervise(['--', ...qemu(dir, '')], path.join(dir, 'serial.log'), (pid) => process.kill(qemuOf(pid)!, 'SIGKILL'));
    assert.is(killed.code, 1, killed.out);
    assert.match(killed.out, /qemu died \(SIGKILL\)/);
  } finally {
    cleanup(dir);
  }
});

test("kib's own argv, run as the VM's user: qemu is that user and seccomp-filtered; SIGTERM still powers off", async () => {
  if (!guest() || !installed('setpriv')) return;
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  try {
    const { args, uid } = declareGuestVm(root, 'web', run);
    let seccomp: string[] = [];
    let owner = -1;
    // The serial console is a socket here: copy it into a file the wait below watches.
    const serialLog = path.join(run, 'serial.log');
    const copy = copySerial(path.join(run, 'kib-web', 'ttyS0.sock'), serialLog);
    const r = await supervise(args, serialLog, (pid) => {
      const q = qemuOf(pid);
      if (q) {
        owner = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${q}/status`, 'utf8'))?.[1]);
        seccomp = readdirSync(`/proc/${q}/task`).map((t) => /^Seccomp:\s+(\d)/m.exec(readFileSync(`/proc/${q}/task/${t}/status`, 'utf8'))?.[1] ?? '?');
      }
      process.kill(pid, 'SIGTERM');
    }, ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups']);
    copy.stop();
    assert.is(owner, uid, 'qemu runs as the VM user');
    assert.ok(seccomp.length > 0 && seccomp.every((s) => s === '2'), `every qemu thread in seccomp filter mode: ${seccomp}`);
    assert.match(r.out, /qmp event POWERDOWN/);
  } finally {
    cleanup(root);
    cleanup(run);
  }
});

test.run();
