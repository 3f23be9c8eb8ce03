// The tcg test guest boots from the command line kib renders for a VM (`kib info --json`
// argv: sandboxed qemu, serial console on a unix socket) with the VM's image disks
// attached, and sees their sizes.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, kibOk, needed, read, REPO, rootFromFixture, tempDir } from '../helpers.ts';
import { readSerial } from '../supervisor/guest.ts';
import { writeFileSync } from 'node:fs';

const GUEST = path.join(REPO, '.cache', 'guest');

/** Builds (or finds cached) the test guest; false where it cannot be had. */
function guest(): boolean {
  if (!installed('qemu-system-x86_64') || !installed('qemu-img')) return false;
  return needed(spawnSync('bash', [path.join(REPO, 'test/guest/build.sh'), GUEST], { stdio: 'inherit' }).status === 0, 'the test guest');
}

/**
 * Runs the qemu part of a VM's unit argv (systemd's %t and the test root filled in),
 * optionally as a given uid, and returns the serial output and qemu's exit status.
 */
async function boot(root: string, run: string, name: string, argv: string[], uid?: number): Promise<{ serial: string; code: number | null; stderr: string }> {
  const qemu = argv.slice(argv.indexOf('--') + 1).map((a) => a.replace(/%t/g, run).replace(/\/var\/lib\/kib\/disks\//g, `${root}/var/lib/kib/disks/`));
  mkdirSync(path.join(run, `kib-${name}`));
  if (uid !== undefined) {
    chownSync(run, uid, uid);
    chownSync(path.join(run, `kib-${name}`), uid, uid);
  }
  const [file, ...args] = uid === undefined ? qemu : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...qemu];
  const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const serial = await readSerial(path.join(run, `kib-${name}`, 'ttyS0.sock'), 60_000);
  const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref())]);
  child.kill('SIGKILL');
  return { serial, code, stderr };
}

test('the guest boots with its disks attached and sees their sizes', async () => {
  if (!guest()) return;
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  try {
    writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}storage = image\n`);
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--disk-size', '100M', '--add-disk', 'data:32M', '--accel', 'tcg', '--mem', '256',
      '--kernel', path.join(GUEST, 'vmlinuz'), '--initrd', path.join(GUEST, 'initrd.gz'), '--append', 'console=ttyS0 quiet panic=-1 kibguest=once');
    const { argv } = JSON.parse(kibOk(root, 'info', 'web', '--json').stdout) as { argv: string[] };
    assert.is(argv[0], '/usr/sbin/kib-supervise');
    const { serial, code, stderr } = await boot(root, run, 'web', argv);
    assert.match(serial, /KIB-GUEST-READY/, `serial: ${serial}\nqemu: ${stderr}`);
    assert.match(serial, /^KIB-DISK vda 204800\r?$/m, '100 MiB main disk');
    assert.match(serial, /^KIB-DISK vdb 65536\r?$/m, '32 MiB extra disk');
    assert.is(code, 0, 'the guest powered off and qemu exited');
  } finally {
    cleanup(root);
    cleanup(run);
  }
});

test("a linked clone boots as the VM's own user: its overlay and the golden image are reachable, nothing else is needed", async () => {
  if (!guest() || !installed('setpriv') || !installed('qemu-io')) return;
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  try {
    writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}storage = image\n`);
    const images = path.join(root, 'var/lib/kib/images');
    mkdirSync(images, { recursive: true });
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(images, 'golden.qcow2'), '64M']);
    spawnSync('qemu-io', ['-c', 'write -P 0x5a 0 1M', path.join(images, 'golden.qcow2')]);
    kibOk(root, 'setup');
    kibOk(root, 'create', 'clone', '--base', 'golden.qcow2', '--accel', 'tcg', '--mem', '256',
      '--kernel', path.join(GUEST, 'vmlinuz'), '--initrd', path.join(GUEST, 'initrd.gz'), '--append', 'console=ttyS0 quiet panic=-1 kibguest=once');
    const { argv, uid } = JSON.parse(kibOk(root, 'info', 'clone', '--json').stdout) as { argv: string[]; uid: number };
    const { serial, code, stderr } = await boot(root, run, 'clone', argv, uid);
    assert.match(serial, /^KIB-DISK vda 131072\r?$/m, `the 64 MiB clone, as uid ${uid}: ${serial.slice(-300)}\nqemu: ${stderr}`);
    assert.is(code, 0);
  } finally {
    cleanup(root);
    cleanup(run);
  }
});

test.run();
