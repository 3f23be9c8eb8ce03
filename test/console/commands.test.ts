// kib-console's pieces without a terminal: its command line (root's options, sshd's -c and
// ForceCommand), the checks every line passes, the commands against a recording backend
// (refusals leave the VM alone), systemd's unit name escaping, the installer units read
// from systemctl, the monitor's answers, and who the console agrees to serve.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Context } from '../../src/context.ts';
import { parseConsoleArgs, requestedCommand } from '../../src/console/args.ts';
import { helpLines, lineProblem, MAX_LINE, runLine, type Session } from '../../src/console/commands.ts';
import { parseInstallUnits, type InstallRun, type VmControl, type VmState } from '../../src/console/control.ts';
import { systemdEscape } from '../../src/formats/systemd-escape.ts';
import { findSelf, type Self } from '../../src/console/identity.ts';
import { cleanAnswer } from '../../src/console/monitor.ts';
import { isIsoName, isPlainFileName, parseMediumFile } from '../../src/qemu/cdrom.ts';
import { cleanup, installed, kibOk, rootFromFixture, sh, tempDir } from '../helpers.ts';

test('command line: root options before -c; anything else is refused', () => {
  assert.equal(parseConsoleArgs([]), { root: '/' });
  assert.equal(parseConsoleArgs(['-c', 'status']), { root: '/', command: 'status' });
  assert.equal(parseConsoleArgs(['--root=/r', '--runtime-dir=/run/x', '--supervise=/etc/s.json', '-c', 'start']), {
    root: '/r',
    runtimeDir: '/run/x',
    supervise: '/etc/s.json',
    command: 'start',
  });
  for (const bad of [['status'], ['-c'], ['-c', 'a', 'b'], ['--root', '/r'], ['--root=relative'], ['-c', 'x', '--root=/r'], ['--shell=/bin/sh']]) {
    assert.throws(() => parseConsoleArgs(bad), /usage: kib-console \[-c COMMAND\]/, bad.join(' '));
  }
});

test("sshd's ForceCommand: the client's command comes from SSH_ORIGINAL_COMMAND; none is the menu", () => {
  assert.is(requestedCommand('/usr/sbin/kib-console', 'status'), 'status');
  assert.is(requestedCommand('/usr/sbin/kib-console', undefined), undefined);
  assert.is(requestedCommand('/usr/sbin/kib-console', '   '), undefined);
  assert.is(requestedCommand('stop', undefined), 'stop');
  assert.is(requestedCommand(undefined, 'status'), undefined, 'without the forced command, the environment is not read');
});

test('every line: bounded and plain text', () => {
  assert.is(lineProblem('status'), undefined);
  assert.is(lineProblem('x'.repeat(MAX_LINE)), undefined);
  assert.match(lineProblem('x'.repeat(MAX_LINE + 1))!, /^line too long/);
  for (const bin of ['st\u0000atus', '\u001b[31mstatus', 'status\u00ff', '\ufffd', 'a\rb']) assert.match(lineProblem(bin)!, /^binary input ignored/, JSON.stringify(bin));
  assert.ok(helpLines().every((l) => l.length <= 80), 'help fits a terminal');
});

test('names: plain file names only, ISOs ending in .iso', () => {
  for (const ok of ['debian-12.iso', 'a', 'x+y_z.cfg', 'A.B.C']) assert.ok(isPlainFileName(ok), ok);
  for (const bad of ['', '.hidden', '../x', 'a/b', '/etc/passwd', 'a..b', '-rf', 'a b', 'x;sh', '$(id)', '`id`', 'a'.repeat(129), 'é']) {
    assert.not.ok(isPlainFileName(bad), bad);
  }
  assert.ok(isIsoName('debian.iso'));
  assert.not.ok(isIsoName('debian.img'));
  assert.is(parseMediumFile('debian.iso\n'), 'debian.iso');
  assert.is(parseMediumFile('../../etc/shadow.iso\n'), undefined, 'a medium file edited by hand names nothing outside the library');
  assert.is(parseMediumFile(''), undefined);
});

test("systemd's escaping of unit names, as systemd-escape does it", () => {
  const names = ['auto', 'my-preseed.cfg', 'a+b.cfg', 'x_y.cfg', 'Debian12.cfg'];
  assert.equal(names.map(systemdEscape), ['auto', 'my\\x2dpreseed.cfg', 'a\\x2bb.cfg', 'x_y.cfg', 'Debian12.cfg']);
  assert.is(systemdEscape('.x/y'), '\\x2ex-y');
  if (installed('systemd-escape')) {
    for (const n of [...names, '.x/y', 'a b']) assert.is(systemdEscape(n), sh('systemd-escape', ['--', n]).stdout.trim(), n);
  }
});

test('installer units as systemctl lists them', () => {
  const text = [
    'kib-web-install@auto.service loaded active running kvm-in-a-box installer for VM web (auto)',
    '● kib-web-install@my\\x2dpre.cfg.service loaded failed failed kvm-in-a-box installer for VM web (my-pre.cfg)',
    'kib-webx-install@auto.service loaded active running another VM',
    '',
  ].join('\n');
  assert.equal(parseInstallUnits('web', text), [
    { unit: 'kib-web-install@auto.service', instance: 'auto', activeState: 'active', subState: 'running' },
    { unit: 'kib-web-install@my\\x2dpre.cfg.service', instance: 'my\\x2dpre.cfg', activeState: 'failed', subState: 'failed' },
  ]);
});

test("the monitor's answer without its echo and terminal codes", () => {
  const raw = 'i\x1b[K\x1b[Din\x1b[K\x1b[D\x1b[Dinfo block\x1b[K\r\ncd0: [not inserted]\r\n    Attached to:      cdrom0\r\n';
  assert.is(cleanAnswer(raw), 'cd0: [not inserted]\n    Attached to:      cdrom0');
  assert.is(cleanAnswer('eject -f cd0\x1b[K\r\n'), '');
});

/** A backend that records what it is asked and answers from a script. */
function recorder(state: Partial<VmState> = {}, installs: InstallRun[] = []) {
  const calls: string[] = [];
  const control: VmControl = {
    state: async () => ({ running: false, up: false, summary: 'not running', lines: ['VM web is not running'], ...state }),
    power: async (a) => (calls.push(a), `${a} done`),
    reset: async () => (calls.push('reset'), 'reset done'),
    autostart: async () => false,
    setAutostart: async (on) => (calls.push(on ? 'enable' : 'disable'), 'ok'),
    installs: async () => installs,
    startInstall: async (i) => void calls.push(`install ${i}`),
    killInstall: async (u) => void calls.push(`kill ${u}`),
  };
  return { control, calls };
}

/** A session on a home directory, its output collected. */
function session(home: string, control: VmControl): { s: Session; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: Context = { root: '/', dryRun: false, live: false, verbosity: 'normal', json: false, out: (l) => out.push(l), err: (l) => err.push(l) };
  const self: Self = { name: 'web', user: 'kib-web', uid: 30000, unit: 'kib-web.service', home, runtimeDir: path.join(home, 'run') };
  return { s: { ctx, self, control, isoDir: async () => path.join(home, 'iso'), withTerminal: (run) => run() }, out, err };
}

test('commands: unknown input prints help; arguments are checked before anything acts', async () => {
  const home = tempDir();
  try {
    const { control, calls } = recorder();
    const { s, out, err } = session(home, control);
    for (const line of ['sh', '!sh', 'status; sh', '$(reboot)', 'exec /bin/sh', 'bash -i', 'web', 'vi', 'less /etc/passwd']) {
      out.length = err.length = 0;
      assert.is(await runLine(s, line), 'usage', line);
      assert.match(err[0], /^unknown command '/, line);
      assert.equal(out, helpLines(), line);
    }
    for (const line of ['start other', 'stop web2', 'console other', 'status --all', 'install debian', 'install ubuntu auto', 'attach-iso a.iso b.iso']) {
      err.length = 0;
      assert.is(await runLine(s, line), 'usage', line);
      assert.match(err[0], /^usage: /, line);
    }
    for (const line of ['attach-iso ../../etc/passwd', 'attach-iso /etc/passwd', 'attach-iso ..iso', 'attach-iso x.img', 'install debian ../x', 'install debian /etc/shadow', 'install debian .bashrc']) {
      err.length = 0;
      assert.is(await runLine(s, line), 'usage', line);
      assert.match(err[0], /^invalid (ISO|preseed file) name/, line);
    }
    assert.equal(calls, [], 'nothing acted');
    assert.not.ok(existsSync(path.join(home, '.kib-cdrom')));
    assert.is(await runLine(s, '  '), 'ok');
    assert.is(await runLine(s, 'quit'), 'quit');
    assert.is(await runLine(s, 'exit'), 'quit');
  } finally {
    cleanup(home);
  }
});

test('commands: the VM and its installer never run at once; each action is one line', async () => {
  const home = tempDir();
  try {
    const busy: InstallRun = { unit: 'kib-web-install@auto.service', instance: 'auto', activeState: 'active', subState: 'running' };
    let r = recorder({}, [busy]);
    let t = session(home, r.control);
    assert.is(await runLine(t.s, 'start'), 'usage');
    assert.match(t.err[0], /^VM web is being installed \(auto\): wait until status-install says it finished, or kill-install$/);
    assert.is(await runLine(t.s, 'install debian auto'), 'usage');
    assert.match(t.err[1], /already running/);
    assert.is(await runLine(t.s, 'status-install'), 'ok');
    assert.equal(t.out, ['install auto of VM web: running (running)']);
    assert.is(await runLine(t.s, 'kill-install'), 'ok');
    assert.equal(r.calls, ['kill kib-web-install@auto.service']);

    r = recorder({ running: true, up: true, summary: 'running', lines: ['VM web is running'] });
    t = session(home, r.control);
    assert.is(await runLine(t.s, 'install debian auto'), 'usage');
    assert.equal(t.err, ['VM web is running: stop it before installing (the installer writes to its disks)']);
    for (const [line, call] of [['stop', 'stop'], ['shutdown', 'stop'], ['reboot', 'restart'], ['reset', 'reset'], ['kill', 'kill'], ['enable', 'enable'], ['disable', 'disable']]) {
      t.out.length = 0;
      r.calls.length = 0;
      assert.is(await runLine(t.s, line), 'ok', line);
      assert.equal(r.calls, [call], line);
      assert.is(t.out.length, 1, `${line}: one line`);
    }

    r = recorder();
    t = session(home, r.control);
    assert.is(await runLine(t.s, 'install debian my-pre.cfg'), 'usage');
    assert.equal(t.err, ["no file 'my-pre.cfg' in your home directory"]);
    writeFileSync(path.join(home, 'my-pre.cfg'), 'd-i debian-installer/locale string en_US\n');
    assert.is(await runLine(t.s, 'install debian my-pre.cfg'), 'ok');
    assert.is(await runLine(t.s, 'install debian auto'), 'ok');
    assert.is(await runLine(t.s, 'reboot'), 'ok', 'reboot of a stopped VM says so');
    assert.equal(r.calls, ['install my\\x2dpre.cfg', 'install auto']);
    assert.match(t.out.at(-1)!, /^VM web is not running \(start starts it\)$/);
  } finally {
    cleanup(home);
  }
});

test('attach-iso on a stopped VM: the library by name, recorded for the next start', async () => {
  const home = tempDir();
  try {
    mkdirSync(path.join(home, 'iso'));
    writeFileSync(path.join(home, 'iso', 'debian.iso'), 'iso');
    writeFileSync(path.join(home, 'iso', 'notes.txt'), 'not an iso');
    const { control } = recorder();
    const { s, out, err } = session(home, control);
    assert.is(await runLine(s, 'attach-iso'), 'ok');
    assert.equal(out, ['ISOs in the library (attach-iso ISO):', '  debian.iso']);
    assert.is(await runLine(s, 'attach-iso other.iso'), 'usage');
    assert.equal(err, ["no ISO named 'other.iso' in the library (attach-iso lists them)"]);
    assert.is(await runLine(s, 'attach-iso debian.iso'), 'ok');
    assert.is(out.at(-1), 'attached debian.iso to VM web: it is in the drive from the next start');
    assert.is(readFileSync(path.join(home, '.kib-cdrom'), 'utf8'), 'debian.iso\n');
    assert.is(await runLine(s, 'status'), 'ok');
    assert.ok(out.includes('CD:       debian.iso'));
    assert.is(await runLine(s, 'detach-iso'), 'ok');
    assert.is(out.at(-1), 'detached debian.iso from VM web');
    assert.not.ok(existsSync(path.join(home, '.kib-cdrom')));
  } finally {
    cleanup(home);
  }
});

test('who may use the console: VM users kib made, and nobody else', async () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--storage', 'none');
    const self = await findSelf(root, 30000, 'kib-web', '/run/user/30000');
    assert.equal(self, { name: 'web', user: 'kib-web', uid: 30000, unit: 'kib-web.service', home: path.join(root, 'var/lib/kib/home/web'), runtimeDir: '/run/user/30000' });
    const refused = async (uid: number, user: string, pattern: RegExp) => {
      try {
        await findSelf(root, uid, user, '/run/user/x');
        assert.unreachable(`${user} was accepted`);
      } catch (error) {
        assert.match((error as Error).message, pattern, user);
      }
    };
    await refused(0, 'root', /^root is not a kib VM user/);
    await refused(1000, 'admin', /^admin is not a kib VM user/);
    await refused(30000, 'kib-other', /^kib-other is not a kib VM user/);
    // A kib-* user kib did not make (its own shell and home) is not a VM user.
    writeFileSync(path.join(root, 'etc/passwd'), `${readFileSync(path.join(root, 'etc/passwd'), 'utf8')}kib-fake:x:31000:31000::/home/fake:/bin/bash\n`);
    await refused(31000, 'kib-fake', /^kib-fake is not a kib VM user/);
    // Its unit gone (or not root's), the VM is not there.
    const unit = path.join(root, 'etc/systemd/user/kib-web.service');
    chownSync(unit, 30000, 30000);
    await refused(30000, 'kib-web', /^VM web has no unit/);
    chmodSync(unit, 0o644);
  } finally {
    cleanup(root);
  }
});

test.run();
