// kib-install for real, as the VM's user: an ISO built here with xorriso holds the test
// guest as install.amd/vmlinuz and initrd.gz (its /init fetches url=tftp://... and prints
// it on the serial console); kib-install runs the command line of the install unit kib
// rendered, with the VM's disk, and the preseed the "installer" prints holds the owner's
// and the backdoor keys. Bad preseed names, symlinks and a running VM are refused.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, KEY1, KEY2, kibOk, needed, read, REPO, rootFromFixture, tempDir } from '../helpers.ts';
import { readSerial } from '../supervisor/guest.ts';

const GUEST = path.join(REPO, '.cache', 'guest');
const INSTALL = path.join(REPO, 'dist', 'kib-install.cjs');
/** kib-install's environment: none of the test runner's colour settings (node warns about them on stderr). */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'FORCE_COLOR' && k !== 'NO_COLOR'));

/** Builds (or finds cached) the test guest; false where qemu, xorriso or setpriv is missing outside CI. */
function guest(): boolean {
  if (!installed('qemu-system-x86_64') || !installed('qemu-img') || !installed('xorriso') || !installed('setpriv')) return false;
  return needed(spawnSync('bash', [path.join(REPO, 'test/guest/build.sh'), GUEST], { stdio: 'inherit' }).status === 0, 'the test guest');
}

/** Splits a unit's ExecStart line into words, with %t, %i, %% and $$ expanded as systemd does. */
function execStartWords(unit: string, specifiers: Record<string, string>): string[] {
  const line = /^ExecStart=(.*)$/m.exec(unit)![1];
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const raw = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
    words.push(raw.replace(/%(.)/g, (_, c: string) => (c === '%' ? '%' : specifiers[c])).replace(/\$\$/g, '$'));
  }
  return words;
}

interface Host {
  root: string;
  run: string;
  uid: number;
}

/**
 * A test root with VM iweb (an image disk, the owner's key) and the host's backdoor key, the
 * packaged preseed file where the package puts it, and an ISO library holding the test
 * "installer" ISO (plus a lower version of it that is not an ISO at all).
 */
function makeHost(): Host {
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}storage = image\nbackdoor-ssh-key = ${KEY2}\n`);
  kibOk(root, 'setup');
  kibOk(root, 'create', 'iweb', '--ssh-key', KEY1, '--accel', 'tcg', '--mem', '256', '--disk-size', '64M');
  const { uid } = JSON.parse(kibOk(root, 'info', 'iweb', '--json').stdout) as { uid: number };
  mkdirSync(path.join(root, 'usr/share/kvm-in-a-box'), { recursive: true });
  copyFileSync(path.join(REPO, 'preseed/preseed.cfg'), path.join(root, 'usr/share/kvm-in-a-box/preseed.cfg'));
  const iso = path.join(root, 'var/lib/kib/iso');
  mkdirSync(path.join(run, 'tree/install.amd'), { recursive: true });
  copyFileSync(path.join(GUEST, 'vmlinuz'), path.join(run, 'tree/install.amd/vmlinuz'));
  copyFileSync(path.join(GUEST, 'initrd.gz'), path.join(run, 'tree/install.amd/initrd.gz'));
  mkdirSync(iso, { recursive: true });
  const made = spawnSync('xorriso', ['-outdev', path.join(iso, 'debian-13.10.0-amd64-netinst.iso'), '-map', path.join(run, 'tree'), '/'], { encoding: 'utf8' });
  assert.is(made.status, 0, made.stderr);
  cleanup(path.join(run, 'tree'));
  writeFileSync(path.join(iso, 'debian-13.9.0-amd64-netinst.iso'), 'not an ISO');
  for (const f of ['debian-13.10.0-amd64-netinst.iso', 'debian-13.9.0-amd64-netinst.iso']) chmodSync(path.join(iso, f), 0o644);
  chmodSync(run, 0o700);
  chownSync(run, uid, uid);
  return { root, run, uid };
}

/**
 * Runs kib-install as the VM's user with the command line of its install unit (%t the test's
 * runtime directory, %i the instance, the disk directory under the test root); with
 * `serial`, also reads the installer's serial console.
 */
async function install(host: Host, instance: string, serial = false): Promise<{ code: number | null; stdout: string; stderr: string; serial: string }> {
  const unit = read(host.root, 'etc/systemd/user/kib-iweb-install@.service');
  const words = execStartWords(unit, { t: host.run, i: instance }).map((w) => w.replace(/^file=\/var\/lib\/kib\/disks\//, `file=${host.root}/var/lib/kib/disks/`));
  assert.is(words[0], '/usr/sbin/kib-install');
  const argv = [INSTALL, `--root=${host.root}`, ...words.slice(1)];
  const child = spawn('setpriv', [`--reuid=${host.uid}`, `--regid=${host.uid}`, '--clear-groups', process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const console = serial ? readSerial(path.join(host.run, 'kib-iweb', 'ttyS0.sock'), 90_000) : Promise.resolve('');
  // Out of time: stopped as its unit would be (the installer powers off or is quit), then killed.
  const timers = [setTimeout(() => child.kill('SIGTERM'), 120_000), setTimeout(() => child.kill('SIGKILL'), 150_000)];
  const code = await exited;
  timers.forEach(clearTimeout);
  return { code, stdout, stderr, serial: await console };
}

/** The text the test installer printed between its markers. */
function printedPreseed(serial: string): string {
  const m = /KIB-PRESEED-BEGIN\r?\n([\s\S]*?)KIB-PRESEED-END/.exec(serial);
  assert.ok(m, `no preseed on the serial console:\n${serial}`);
  return m![1].replace(/\r\n/g, '\n');
}

test('install debian auto: the installer gets the packaged preseed with the owner\'s and the backdoor key, and the VM\'s disk', async () => {
  if (!guest()) return;
  const host = makeHost();
  try {
    const r = await install(host, 'auto', true);
    assert.is(r.code, 0, `${r.stderr}\n${r.stdout}`);
    assert.match(r.stdout, /^installing VM iweb from debian-13\.10\.0-amd64-netinst\.iso with the packaged preseed \(auto\), 2 SSH key\(s\) for root$/m);
    assert.match(r.stdout, /qmp event SHUTDOWN .*"reason":"guest-shutdown"/);
    assert.match(r.stdout, /^the installer of VM iweb finished$/m);
    assert.is(r.stderr, '');
    const preseed = printedPreseed(r.serial);
    assert.is(preseed, readFileSync(path.join(REPO, 'preseed/preseed.cfg'), 'utf8').replace('@KIB_AUTHORIZED_KEYS@', `'${KEY1}' '${KEY2}'`));
    assert.match(preseed, `printf '%s\\n' '${KEY1}' '${KEY2}' > /target/root/.ssh/authorized_keys`);
    assert.match(r.serial, /^KIB-DISK vda 131072\r?$/m, "the VM's 64 MiB disk is attached");
    assert.match(r.serial, /^KIB-GUEST-IP 10\.0\.2\.15\r?$/m, 'DHCP from the user-mode network');
    assert.not.ok(existsSync(path.join(host.run, 'kib-iweb', 'install')), 'the kernel, initrd and preseed are removed');
  } finally {
    cleanup(host.root);
    cleanup(host.run);
  }
});

test('install debian FILE: a preseed file from the VM\'s home, its mark replaced; bad names and symlinks refused in one line', async () => {
  if (!guest()) return;
  const host = makeHost();
  const home = path.join(host.root, 'var/lib/kib/home/iweb');
  try {
    writeFileSync(path.join(home, 'my+seed.cfg'), 'd-i preseed/late_command string echo @KIB_AUTHORIZED_KEYS@\n');
    chownSync(path.join(home, 'my+seed.cfg'), host.uid, host.uid);
    const r = await install(host, 'my\\x2bseed.cfg', true);
    assert.is(r.code, 0, `${r.stderr}\n${r.stdout}`);
    assert.match(r.stdout, /with the preseed file my\+seed\.cfg, 2 SSH key\(s\) for root/);
    assert.is(printedPreseed(r.serial), `d-i preseed/late_command string echo '${KEY1}' '${KEY2}'\n`);

    symlinkSync('/etc/passwd', path.join(home, 'link.cfg'));
    mkdirSync(path.join(home, 'dir.cfg'));
    const refused: [string, RegExp][] = [
      ['../x', /^kib-install: invalid preseed file name '\.\.\/x': a plain file name/],
      ['a/b', /^kib-install: invalid preseed file name 'a\/b'/],
      ['.hidden', /^kib-install: invalid preseed file name '\.hidden'/],
      ['a\\x2fb', /^kib-install: invalid preseed file name 'a\/b'/],
      ['link.cfg', /^kib-install: cannot use the preseed file \/var\/lib\/kib\/home\/iweb\/link\.cfg: it is a symlink\n$/],
      ['dir.cfg', /^kib-install: cannot use the preseed file \/var\/lib\/kib\/home\/iweb\/dir\.cfg: not a regular file\n$/],
      ['nope.cfg', /^kib-install: cannot use the preseed file \/var\/lib\/kib\/home\/iweb\/nope\.cfg: no such file\n$/],
    ];
    for (const [name, message] of refused) {
      const bad = await install(host, name);
      assert.is.not(bad.code, 0, name);
      assert.match(bad.stderr, message, `${name}: ${bad.stderr}`);
      assert.is(bad.stderr.split('\n').length, 2, `one line for ${name}: ${bad.stderr}`);
      assert.is(bad.stdout, '', `nothing started for ${name}`);
    }
  } finally {
    cleanup(host.root);
    cleanup(host.run);
  }
});

test('kib-install refuses while a qemu of the VM runs, and as any user but the VM\'s', async () => {
  if (!guest()) return;
  const host = makeHost();
  try {
    // The VM itself, as its unit runs it (the qemu part of `kib info`'s argv).
    const { argv } = JSON.parse(kibOk(host.root, 'info', 'iweb', '--json').stdout) as { argv: string[] };
    const qemu = argv.slice(argv.indexOf('--') + 1).map((a) => a.replace(/%t/g, host.run).replace(/^file=\/var\/lib\/kib\/disks\//, `file=${host.root}/var/lib/kib/disks/`));
    mkdirSync(path.join(host.run, 'kib-iweb'));
    chownSync(path.join(host.run, 'kib-iweb'), host.uid, host.uid);
    const vm = spawn('setpriv', [`--reuid=${host.uid}`, `--regid=${host.uid}`, '--clear-groups', ...qemu], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const deadline = Date.now() + 20_000;
      while (!existsSync(path.join(host.run, 'kib-iweb', 'ttyS0.sock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const r = await install(host, 'auto');
      assert.is(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^kib-install: VM iweb is running or installing \\(qemu pid ${vm.pid}\\): stop it before installing\\n$`));
    } finally {
      vm.kill('SIGKILL');
    }
    const asRoot = spawnSync(process.execPath, [INSTALL, `--root=${host.root}`, `--runtime-dir=${host.run}`, 'iweb', 'auto', '--', 'qemu'], { encoding: 'utf8', env: ENV });
    assert.is(asRoot.status, 2);
    assert.match(asRoot.stderr, new RegExp(`^kib-install: kib-install for VM iweb runs as kib-iweb \\(uid ${host.uid}\\), not as uid 0\\n$`));
  } finally {
    cleanup(host.root);
    cleanup(host.run);
  }
});

test.run();
