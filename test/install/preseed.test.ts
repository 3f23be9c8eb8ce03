// The preseed side of an install: which names are plain file names, how a unit instance
// reads, root's keys taken from kib's authorized_keys file and put in place of the mark,
// the installer ISO chosen from the library, and the install unit's command line.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KibError } from '../../src/errors.ts';
import { installerFilesOf } from '../../src/install/files.ts';
import { findInstallerIso } from '../../src/install/iso.ts';
import { systemdEscape } from '../../src/formats/systemd-escape.ts';
import { checkPreseedName, KEYS_MARK, keysOfAuthorizedKeys, parseInstance, withAuthorizedKeys } from '../../src/install/preseed.ts';
import { parseConfig } from '../../src/model/config.ts';
import { emptyState } from '../../src/model/state.ts';
import { DEFAULT_SETTINGS, type Vm } from '../../src/model/vm.ts';
import { installArgv, execStartOf } from '../../src/resources/systemd.ts';
import { cleanup, CONFIG, installed, KEY1, KEY2, REPO, tempDir } from '../helpers.ts';

test('preseed names: plain file names only', () => {
  for (const ok of ['my.cfg', 'web-1.preseed', 'A+b_c.cfg', 'x']) assert.is(checkPreseedName(ok), undefined, ok);
  for (const bad of ['../x', 'a/b', '.hidden', '..', 'a..b', '', '/etc/passwd', '-x', 'a b', 'a\nb', 'x'.repeat(129), 'é.cfg']) {
    assert.match(checkPreseedName(bad) ?? '', /^invalid preseed file name '.*': a plain file name/, JSON.stringify(bad));
  }
});

test('an instance is auto or a preseed name, systemd escapes undone (a dash stays a dash)', () => {
  assert.equal(parseInstance('auto'), { kind: 'auto' });
  assert.equal(parseInstance('my-seed.cfg'), { kind: 'home', file: 'my-seed.cfg' });
  assert.equal(parseInstance('my\\x2bseed.cfg'), { kind: 'home', file: 'my+seed.cfg' });
  assert.type(parseInstance('..\\x2fx'), 'string');
  assert.type(parseInstance('a\\x2fb'), 'string');
  assert.equal(parseInstance(systemdEscape('my+seed.cfg')), { kind: 'home', file: 'my+seed.cfg' });
  assert.equal(parseInstance(systemdEscape('my-seed_1.cfg')), { kind: 'home', file: 'my-seed_1.cfg' });
  assert.equal(parseInstance(systemdEscape('a+b.cfg')), { kind: 'home', file: 'a+b.cfg' });
});

test("root's keys: kib's authorized_keys lines without their options, comments and junk skipped", () => {
  const file = `# SSH keys of the owners of VM web\n\nrestrict,pty ${KEY1}\ncommand="echo a b",no-pty ${KEY2}\nnot a key\n`;
  assert.equal(keysOfAuthorizedKeys(file), [KEY1, KEY2]);
  assert.equal(keysOfAuthorizedKeys(''), []);
});

test('the mark becomes one single-quoted sh word per key; comments keep only safe characters', () => {
  const odd = `${KEY1.split(' ').slice(0, 2).join(' ')} it's $HOME\\x`;
  const out = withAuthorizedKeys(`a ${KEYS_MARK} b\nc ${KEYS_MARK}\n`, [KEY1, KEY2, KEY1, odd]);
  const words = `'${KEY1}' '${KEY2}' '${KEY1.split(' ').slice(0, 2).join(' ')} its HOMEx'`;
  assert.is(out, `a ${words} b\nc ${words}\n`);
  assert.is(withAuthorizedKeys(`x ${KEYS_MARK}.`, []), 'x .');
  assert.is(withAuthorizedKeys('no mark', [KEY1]), 'no mark');
});

test('the packaged preseed: the mark once, in the late command; valid for debconf with keys in it', () => {
  const preseed = readFileSync(path.join(REPO, 'preseed/preseed.cfg'), 'utf8');
  assert.is(preseed.split(KEYS_MARK).length, 2, 'one mark');
  assert.match(preseed, /^d-i preseed\/late_command string \\\n(.*\\\n)*.*@KIB_AUTHORIZED_KEYS@/m);
  assert.match(preseed, /^d-i passwd\/root-password-crypted password \*$/m);
  assert.match(preseed, /^d-i debian-installer\/exit\/poweroff boolean true$/m);
  if (!installed('debconf-set-selections')) return;
  const dir = tempDir();
  try {
    writeFileSync(path.join(dir, 'p.cfg'), withAuthorizedKeys(preseed, [KEY1, KEY2]));
    const r = spawnSync('debconf-set-selections', ['-c', path.join(dir, 'p.cfg')], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
  } finally {
    cleanup(dir);
  }
});

test('the installer ISO: the one configured, else the highest debian-*amd64*.iso', async () => {
  const dir = tempDir();
  try {
    for (const f of ['debian-13.9.0-amd64-netinst.iso', 'debian-13.10.0-amd64-netinst.iso', 'debian-14.0.0-arm64-netinst.iso', 'ubuntu-amd64.iso', 'debian-99-amd64.txt']) {
      writeFileSync(path.join(dir, f), '');
    }
    mkdirSync(path.join(dir, 'debian-99.0.0-amd64-netinst.iso'));
    symlinkSync('debian-13.9.0-amd64-netinst.iso', path.join(dir, 'debian-15.0.0-amd64-link.iso'));
    assert.is(path.basename(await findInstallerIso(dir, '/iso')), 'debian-15.0.0-amd64-link.iso', 'a symlink root made counts');
    cleanup(path.join(dir, 'debian-15.0.0-amd64-link.iso'));
    assert.is(path.basename(await findInstallerIso(dir, '/iso')), 'debian-13.10.0-amd64-netinst.iso');
    assert.is(path.basename(await findInstallerIso(dir, '/iso', 'debian-13.9.0-amd64-netinst.iso')), 'debian-13.9.0-amd64-netinst.iso');
    await findInstallerIso(dir, '/iso', 'nope.iso').then(
      () => assert.unreachable(),
      (e: KibError) => assert.is(e.message, 'the installer ISO /iso/nope.iso (installer-iso) does not exist'),
    );
    await findInstallerIso(path.join(dir, 'missing'), '/iso').then(
      () => assert.unreachable(),
      (e: KibError) => assert.match(e.message, /^no Debian installer ISO \(debian-\*-amd64-\*\.iso\) in \/iso: /),
    );
  } finally {
    cleanup(dir);
  }
});

test("the install unit's command line: the VM's disks, one user-mode NIC serving TFTP, the ISO, the installer's kernel", () => {
  const config = parseConfig(`${CONFIG}accel = tcg\n`);
  const vm: Vm = {
    ...DEFAULT_SETTINGS,
    storage: 'image',
    disks: [{ name: 'data', sizeMiB: 64 }],
    net: { user: true, public: true, private: false, groups: [] },
    uid: 30000,
    mac: '52:54:00:12:34:56',
    ipv4: '10.0.0.2',
    displayPort: 5900,
  } as Vm;
  const state = { ...emptyState(), vms: { web: vm } };
  const argv = installArgv('web', { config, state, facts: {} }, '/run/user/30000', 'auto');
  const files = installerFilesOf('web', '/run/user/30000');
  assert.equal(argv.slice(0, 6), ['/usr/sbin/kib-install', '--runtime-dir=/run/user/30000', '--timeout=10', 'web', 'auto', '--']);
  const qemu = argv.slice(6).join(' ');
  assert.ok(qemu.startsWith('/usr/bin/qemu-system-x86_64 -name guest=web,debug-threads=on -sandbox on,'), qemu);
  assert.match(qemu, / -no-reboot /);
  assert.match(qemu, / -drive file=\/var\/lib\/kib\/disks\/web\.qcow2,.* -drive file=\/var\/lib\/kib\/disks\/web-data\.qcow2,/);
  assert.match(qemu, ` -netdev user,tftp=${files.tftpDir},id=install -device virtio-net-pci,netdev=install,mac=52:54:00:12:34:56 `);
  assert.not.match(qemu, /tap|netdev=public|netdev=user/, "the VM's own NICs stay out");
  assert.match(qemu, ` -drive file=${files.iso},format=raw,if=none,id=installer,media=cdrom,readonly=on -device ide-cd,drive=installer `);
  assert.ok(qemu.endsWith(` -kernel ${files.kernel} -initrd ${files.initrd} -append auto=true priority=critical url=tftp://10.0.2.2/preseed.cfg hostname=web domain=kvm-box.example.net console=ttyS0,115200n8`), qemu);
  const line = execStartOf(installArgv('web', { config, state, facts: {} }, '\u0001t', '\u0001i'), '\u0001t', '\u0001i');
  assert.ok(line.startsWith('/usr/sbin/kib-install --runtime-dir=%t --timeout=10 web %i -- /usr/bin/qemu-system-x86_64 '), line);
  assert.match(line, / -append "auto=true priority=critical url=tftp:\/\/10\.0\.2\.2\/preseed\.cfg hostname=web domain=kvm-box\.example\.net console=ttyS0,115200n8"$/);
});

test.run();
