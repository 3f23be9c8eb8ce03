// LVM volumes through kib on a real volume group on a loop device (activation is not
// possible here: no device-mapper, so volumes are created inactive, as TESTING.md says).
import { spawn } from 'node:child_process';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, kib, kibOk, needed, read, rootFromFixture, sh, tempDir } from '../helpers.ts';

const VG = `kibtest${process.pid}`;
const LVM = ['--driverloaded', 'n'];
let loop = '';
let dir = '';

function setUpVg(): boolean {
  if (!installed('lvcreate') || !installed('losetup')) return false;
  dir = tempDir();
  const img = path.join(dir, 'pv.img');
  sh('truncate', ['-s', '200M', img]);
  const l = sh('losetup', ['-f', '--show', img]);
  if (l.status !== 0) return false;
  loop = l.stdout.trim();
  return sh('pvcreate', ['-q', ...LVM, loop]).status === 0 && sh('vgcreate', ['-q', ...LVM, VG, loop]).status === 0;
}

const HAVE = needed(setUpVg(), 'a loop-device volume group');

/** The VG's volumes as LVM itself reports them: name -> MiB. */
function lvs(): Record<string, number> {
  const r = sh('lvs', [...LVM, '--noheadings', '--units', 'm', '--nosuffix', '--separator', '|', '-o', 'lv_name,lv_size', VG]);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => [l.split('|')[0], Math.round(Number(l.split('|')[1]))]),
  );
}

function lvmRoot(): string {
  const root = rootFromFixture('clean');
  writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}default-volume-group = ${VG}\nlvm-args = --driverloaded n\nlvcreate-args = -an -Zn\n`);
  kibOk(root, 'setup');
  return root;
}

test('lv create, extend, list and remove for main and extra disks', () => {
  if (!HAVE) return;
  const root = lvmRoot();
  try {
    kibOk(root, 'create', 'web', '--disk-size', '40M', '--add-disk', 'data:20M');
    assert.match(read(root, 'etc/udev/rules.d/60-kib.rules'), new RegExp(`ENV\\{DM_VG_NAME\\}=="${VG}", ENV\\{DM_LV_NAME\\}=="web-data", OWNER="kib-web"`));
    kibOk(root, 'lv', 'create', 'web', '40M');
    kibOk(root, 'lv', 'create', 'web', '20M', '--subvol', 'data');
    assert.equal(lvs(), { web: 40, 'web-data': 20 });
    kibOk(root, 'lv', 'extend', 'web', '60M');
    assert.equal(lvs(), { web: 60, 'web-data': 20 });
    // LVM rounds up to whole extents (4 MiB): kib records the real size.
    assert.match(kibOk(root, 'lv', 'extend', 'web', '61M').stdout, /extended volume .*\/web to 64 MiB/);
    assert.equal(lvs(), { web: 64, 'web-data': 20 });
    assert.equal(JSON.parse(kibOk(root, 'lvs', '--json').stdout), [
      { vg: VG, lv: 'web', vm: 'web', sizeMiB: 64, running: false },
      { vg: VG, lv: 'web-data', vm: 'web', sizeMiB: 20, running: false },
    ]);
    assert.is(JSON.parse(kibOk(root, 'info', 'web', '--json').stdout).diskMiB, 64, 'the state records the real size');
    kibOk(root, 'lv', 'remove', 'web', '--subvol', 'data');
    assert.equal(lvs(), { web: 64 });
    assert.match(kibOk(root, 'remove', 'web').stdout, new RegExp(`disks are kept: /dev/${VG}/web`));
    assert.equal(lvs(), { web: 64 }, 'remove keeps the volume');
  } finally {
    cleanup(root);
    sh('lvremove', [...LVM, '-y', `${VG}/web`]);
  }
});

test('refusals leave the volume group unchanged: too large, shrinking, unknown VG, foreign volume', () => {
  if (!HAVE) return;
  const root = lvmRoot();
  try {
    kibOk(root, 'create', 'db', '--disk-size', '20M');
    kibOk(root, 'lv', 'create', 'db', '20M');
    const before = lvs();
    const big = kib(root, 'lv', 'extend', 'db', '1G');
    assert.match(big.stderr, /has \d+ MiB free; growing db needs \d+ MiB/);
    assert.match(kib(root, 'lv', 'extend', 'db', '10M').stderr, /shrinking a volume is refused/);
    assert.match(kib(root, 'lv', 'create', 'db', '10M').stderr, /already exists/);
    kibOk(root, 'create', 'other', '--vg', 'novg');
    assert.match(kib(root, 'lv', 'create', 'other', '10M').stderr, /no volume group 'novg'/);
    // A volume kib did not create is never given to a VM, nor removed by kib.
    assert.is(sh('lvcreate', [...LVM, '-an', '-Zn', '-q', '-L', '8M', '-n', 'mail', VG]).status, 0);
    assert.match(kib(root, 'create', 'mail').stderr, new RegExp(`volume ${VG}/mail exists and kib did not create it`));
    kibOk(root, 'create', 'mailx', '--add-disk', 'a:8M');
    assert.equal(lvs(), { ...before, mail: 8 });
    assert.is(big.stderr.trimEnd().split('\n').length, 1, big.stderr);
    assert.match(kibOk(root, 'remove', 'db', '--purge').stdout, new RegExp(`^deleted ${VG}/db$`, 'm'));
    assert.equal(lvs(), { mail: 8 });
  } finally {
    cleanup(root);
    sh('lvremove', [...LVM, '-y', `${VG}/mail`]);
  }
});

test('a volume of a running VM is not removed, nor its disks purged', async () => {
  if (!HAVE || !installed('setpriv')) return;
  const root = lvmRoot();
  try {
    kibOk(root, 'create', 'run', '--disk-size', '8M');
    kibOk(root, 'lv', 'create', 'run', '8M');
    const uid = JSON.parse(kibOk(root, 'info', 'run', '--json').stdout).uid;
    const asVmUser = (file: string) => spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', file, '30'], { stdio: 'ignore' });
    // Another process of the VM's user (its systemd, an owner's console) is not the VM.
    const other = asVmUser('sleep');
    await new Promise((r) => setTimeout(r, 300));
    try {
      assert.equal(JSON.parse(kibOk(root, 'lvs', '--json').stdout).map((v: { running: boolean }) => v.running), [false]);
    } finally {
      other.kill('SIGKILL');
    }
    // A process named as qemu, of the VM's user: what the VM is while it runs.
    const bin = tempDir('kib-qemu-');
    chmodSync(bin, 0o755);
    symlinkSync(sh('sh', ['-c', 'command -v sleep']).stdout.trim(), path.join(bin, 'qemu-system-x86_64'));
    const vm = asVmUser(path.join(bin, 'qemu-system-x86_64'));
    await new Promise((r) => setTimeout(r, 300));
    try {
      assert.equal(JSON.parse(kibOk(root, 'lvs', '--json').stdout).map((v: { running: boolean }) => v.running), [true]);
      const r = kib(root, 'lv', 'remove', 'run');
      assert.is.not(r.status, 0);
      assert.match(r.stderr, /VM run is running; stop it before removing/);
      assert.match(kib(root, 'remove', 'run', '--purge').stderr, /VM run is running; stop it before purging its disks/);
      assert.equal(lvs(), { run: 8 });
    } finally {
      vm.kill('SIGKILL');
      cleanup(bin);
    }
  } finally {
    cleanup(root);
    sh('lvremove', [...LVM, '-y', `${VG}/run`]);
  }
});

test.after(() => {
  if (!loop) return;
  sh('vgremove', [...LVM, '-f', '-q', VG]);
  sh('pvremove', [...LVM, '-q', loop]);
  sh('losetup', ['-d', loop]);
  cleanup(dir);
});

test.run();
