// Image-file disks, for real with qemu-img: created at kib create with the requested size,
// mode 0600 and owned by the VM user; grown with kib disk resize; kept by remove and
// deleted by remove --purge; linked clones of golden images, in constant time.
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
    assert.match(kibOk(root, 'remove', 'web').stdout, /its disks are kept: \/var\/lib\/kib\/disks\/web\.qcow2/);
    assert.ok(existsSync(file));
    const again = kibOk(root, 'create', 'web', '--disk-size', '64M').stdout;
    assert.match(again, /^took over \/var\/lib\/kib\/disks\/web\.qcow2/m);
    assert.is(statSync(file).uid, JSON.parse(kibOk(root, 'info', 'web', '--json').stdout).uid);
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.match(kibOk(root, 'remove', 'web', '--purge').stdout, /^deleted \/var\/lib\/kib\/disks\/web\.qcow2$/m);
    assert.not.ok(existsSync(file));
    assert.match(read(root, 'var/lib/kib/state.json'), /"keptDisks":\{\}/, 'nothing recorded as kept after a purge');
  } finally {
    cleanup(root);
  }
});

test('a file kib did not make (or keep for that VM) at a disk path is never taken over', () => {
  if (!HAVE) return;
  const root = imageRoot();
  try {
    const disks = path.join(root, 'var/lib/kib/disks');
    mkdirSync(disks, { recursive: true });
    writeFileSync(path.join(disks, 'mail.qcow2'), 'someone else\'s data');
    symlinkSync(path.join(root, 'etc/passwd'), path.join(disks, 'db.qcow2'));
    for (const name of ['mail', 'db']) {
      const r = kib(root, 'create', name, '--disk-size', '64M');
      assert.is.not(r.status, 0);
      assert.match(r.stderr, new RegExp(`${name}\\.qcow2 already exists and kib did not keep it for VM ${name}; move it away first`));
    }
    assert.is(readFileSync(path.join(disks, 'mail.qcow2'), 'utf8'), 'someone else\'s data');
    assert.is(statSync(path.join(root, 'etc/passwd')).uid, 0, 'the symlink target keeps its owner');
    // A disk kept from VM web is not handed to a VM of another name.
    kibOk(root, 'create', 'web', '--disk-size', '64M');
    const owner = statSync(path.join(disks, 'web.qcow2')).uid;
    kibOk(root, 'remove', 'web');
    kibOk(root, 'create', 'web2', '--disk-size', '64M');
    assert.is(statSync(path.join(disks, 'web.qcow2')).uid, owner, 'still the old VM user\'s');
    assert.is.not(statSync(path.join(disks, 'web2.qcow2')).uid, owner);
  } finally {
    cleanup(root);
  }
});

test('storage is set at create: change refuses another format, size or base', () => {
  if (!HAVE) return;
  const root = imageRoot();
  try {
    kibOk(root, 'create', 'web', '--disk-size', '64M', '--add-disk', 'data:16M');
    assert.match(kib(root, 'change', 'web', '--image-format', 'raw').stderr, /its storage \(--image-format\) is set when it is created/);
    assert.match(kib(root, 'change', 'web', '--disk-size', '1G').stderr, /changes with 'kib disk resize'/);
    assert.match(kib(root, 'change', 'web', '--add-disk', 'data:40M').stderr, /disk data is 16 MiB; its size changes with 'kib disk resize'/);
    // Dropping a disk keeps its file, recorded; adding it back takes it over.
    kibOk(root, 'change', 'web', '--no-add-disk');
    assert.ok(existsSync(path.join(root, 'var/lib/kib/disks/web-data.qcow2')));
    assert.match(kibOk(root, 'change', 'web', '--add-disk', 'data:16M').stdout, /took over \/var\/lib\/kib\/disks\/web-data\.qcow2/);
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
    kibOk(root, 'create', 'c1', '--base', 'debian.qcow2');
    kibOk(root, 'create', 'c2', '--base', 'debian.qcow2', '--disk-size', '8G');
    assert.is(JSON.parse(kibOk(root, 'info', 'c1', '--json').stdout).diskMiB, 4096, 'a clone is as large as its golden image');
    assert.match(kib(root, 'create', 'c5', '--base', 'debian.qcow2', '--disk-size', '1G').stderr, /--disk-size 1024M is smaller than golden image 'debian\.qcow2' \(4096 MiB\)/);
    const clone = info(path.join(root, 'var/lib/kib/disks/c1.qcow2'));
    assert.is(clone['backing-filename'], golden);
    assert.ok(statSync(path.join(root, 'var/lib/kib/disks/c1.qcow2')).size < 1048576, 'an overlay holds no copy');
    assert.equal(JSON.parse(kibOk(root, 'images', '--json').stdout), [{ name: 'debian.qcow2', virtualMiB: 4096, dependents: ['c1', 'c2'] }]);
    const refused = kib(root, 'images', 'remove', 'debian.qcow2');
    assert.is.not(refused.status, 0);
    assert.match(refused.stderr, /golden image 'debian\.qcow2' is the base of c1, c2; remove those VMs \(and kept disks\) first/);
    assert.ok(existsSync(golden));
    assert.match(kib(root, 'create', 'c3', '--base', 'missing.qcow2').stderr, /no golden image 'missing\.qcow2'/);
    assert.match(kib(root, 'create', 'c4', '--base', '../etc/passwd').stderr, /invalid --base/);
    kibOk(root, 'remove', 'c1', '--purge');
    // A clone kept after its VM went still needs the golden image.
    kibOk(root, 'remove', 'c2');
    assert.match(kib(root, 'images', 'remove', 'debian.qcow2').stderr, /is the base of \/var\/lib\/kib\/disks\/c2\.qcow2/);
    kibOk(root, 'create', 'c2', '--base', 'debian.qcow2', '--disk-size', '8G');
    kibOk(root, 'remove', 'c2', '--purge');
    kibOk(root, 'images', 'remove', 'debian.qcow2');
    assert.not.ok(existsSync(golden));
  } finally {
    cleanup(root);
  }
});

test.run();
