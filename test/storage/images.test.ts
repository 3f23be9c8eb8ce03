// Image-file disks, for real with qemu-img: created at kib create with the requested size,
// mode 0600 and owned by the VM user; grown with kib disk resize; kept by remove and
// deleted by remove --purge; linked clones of golden images, in constant time.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, kib, kibOk, read, rootFromFixture, sh } from '../helpers.ts';

const HAVE = installed('qemu-img');

function info(file: string): { format: string; 'virtual-size': number; 'backing-filename'?: string } {
  const r = sh('qemu-img', ['info', '--output=json', '-U', file]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function imageRoot(): string {
  const root = rootFromFixture('clean');
  writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}storage = image\n`);
  kibOk(root, 'setup');
  return root;
}

test('create makes qcow2 (or raw) files of the given sizes, 0600, owned by the VM user', () => {
  if (!HAVE) return;
  const root = imageRoot();
  try {
    const out = kibOk(root, 'create', 'web', '--disk-size', '1G', '--add-disk', 'data:256M', '--add-disk', 'logs').stdout;
    assert.match(out, /^created \/var\/lib\/kib\/disks\/web\.qcow2$/m);
    const disks = path.join(root, 'var/lib/kib/disks');
    const uid = JSON.parse(kibOk(root, 'info', 'web', '--json').stdout).uid;
    for (const [file, size] of [['web.qcow2', 1024], ['web-data.qcow2', 256], ['web-logs.qcow2', 1024]] as const) {
      const i = info(path.join(disks, file));
      assert.is(i.format, 'qcow2', file);
      assert.is(i['virtual-size'], size * 1048576, file);
      const s = statSync(path.join(disks, file));
      assert.is(s.mode & 0o777, 0o600, file);
      assert.is(s.uid, uid, file);
    }
    kibOk(root, 'create', 'raw', '--image-format', 'raw', '--disk-size', '64M');
    assert.is(info(path.join(disks, 'raw.raw')).format, 'raw');
    // The unit hands qemu the image with its format.
    assert.match(read(root, 'etc/systemd/user/kib-web.service'), /-drive file=\/var\/lib\/kib\/disks\/web\.qcow2,format=qcow2,if=none,id=disk0/);
  } finally {
    cleanup(root);
  }
});

test('disk resize grows a disk, refuses to shrink, and records the size', () => {
  if (!HAVE) return;
  const root = imageRoot();
  try {
    kibOk(root, 'create', 'web', '--disk-size', '128M', '--add-disk', 'data:64M');
    const file = path.join(root, 'var/lib/kib/disks/web-data.qcow2');
    kibOk(root, 'disk', 'resize', 'web', '200M', '--subvol', 'data');
    assert.is(info(file)['virtual-size'], 200 * 1048576);
    const shrink = kib(root, 'disk', 'resize', 'web', '100M', '--subvol', 'data');
    assert.is.not(shrink.status, 0);
    assert.match(shrink.stderr, /shrinking a disk is refused/);
    assert.is(info(file)['virtual-size'], 200 * 1048576);
    assert.equal(JSON.parse(kibOk(root, 'info', 'web', '--json').stdout).disks, [{ name: 'data', sizeMiB: 200 }]);
    assert.match(kib(root, 'disk', 'resize', 'web', '1G', '--subvol', 'nope').stderr, /VM web has no disk 'nope'/);
  } finally {
    cleanup(root);
  }
});

test('remove keeps the disks and says where; create again takes them over; --purge deletes them', () => {
  if (!HAVE) return;
  const root = imageRoot();
  try {
    kibOk(root, 'create', 'web', '--disk-size', '64M');
    const file = path.join(root, 'var/lib/kib/disks/web.qcow2');
    // A file kib did not make, next to the VM's.
    writeFileSync(path.join(root, 'var/lib/kib/disks/notes.txt'), 'keep me');
    assert.match(kibOk(root, 'remove', 'web').stdout, /its disks are kept: \/var\/lib\/kib\/disks\/web\.qcow2/);
    assert.ok(existsSync(file));
    const again = kibOk(root, 'create', 'web', '--disk-size', '64M').stdout;
    assert.match(again, /^adopted \/var\/lib\/kib\/disks\/web\.qcow2/m);
    assert.is(statSync(file).uid, JSON.parse(kibOk(root, 'info', 'web', '--json').stdout).uid);
    assert.match(kibOk(root, 'remove', 'web', '--purge').stdout, /^deleted \/var\/lib\/kib\/disks\/web\.qcow2$/m);
    assert.not.ok(existsSync(file));
    assert.ok(existsSync(path.join(root, 'var/lib/kib/disks/notes.txt')), 'nothing kib did not make is deleted');
  } finally {
    cleanup(root);
  }
});

test('a linked clone is an overlay on the golden image; kib refuses to remove a golden image in use', () => {
  if (!HAVE) return;
  const root = imageRoot();
  try {
    mkdirSync(path.join(root, 'var/lib/kib/images'), { recursive: true });
    const golden = path.join(root, 'var/lib/kib/images/debian.qcow2');
    assert.is(sh('qemu-img', ['create', '-q', '-f', 'qcow2', golden, '4G']).status, 0);
    kibOk(root, 'create', 'c1', '--base', 'debian.qcow2', '--disk-size', '4G');
    kibOk(root, 'create', 'c2', '--base', 'debian.qcow2', '--disk-size', '4G');
    const clone = info(path.join(root, 'var/lib/kib/disks/c1.qcow2'));
    assert.is(clone['backing-filename'], golden);
    assert.ok(statSync(path.join(root, 'var/lib/kib/disks/c1.qcow2')).size < 1048576, 'an overlay holds no copy');
    assert.equal(JSON.parse(kibOk(root, 'images', '--json').stdout), [{ name: 'debian.qcow2', sizeBytes: statSync(golden).size, dependents: ['c1', 'c2'] }]);
    const refused = kib(root, 'images', 'remove', 'debian.qcow2');
    assert.is.not(refused.status, 0);
    assert.match(refused.stderr, /golden image 'debian\.qcow2' is the base of c1, c2; remove those VMs first/);
    assert.ok(existsSync(golden));
    assert.match(kib(root, 'create', 'c3', '--base', 'missing.qcow2').stderr, /no golden image 'missing\.qcow2'/);
    assert.match(kib(root, 'create', 'c4', '--base', '../etc/passwd').stderr, /invalid --base/);
    kibOk(root, 'remove', 'c1', '--purge');
    kibOk(root, 'remove', 'c2', '--purge');
    kibOk(root, 'images', 'remove', 'debian.qcow2');
    assert.not.ok(existsSync(golden));
  } finally {
    cleanup(root);
  }
});

test.run();
