// kib-console for real: a real sshd with kib's Match block, a VM user on this host whose
// login shell is the console, the tcg test guest run by the real supervisor. One command
// per login for scripts, the menu on a terminal (tmux): status, start, the serial console
// and back with ^], media changed live and kept across a reboot, reset, stop, the end of
// input. Every escape attempt leaves the session in the menu, and sshd forwards nothing
// but the VM's own display port.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { monitorCommand } from '../../src/console/monitor.ts';
import { cleanup, installed, sh } from '../helpers.ts';
import { until } from '../supervisor/guest.ts';
import { canRun, consoleHost, CONSOLE, type ConsoleHost } from './host.ts';

let host: ConsoleHost | undefined;

test.before(async () => {
  if (canRun()) host = await consoleHost();
});

test.after(() => host?.close());

/** What qemu says about the CD drive, through its monitor socket. */
const cdrom = (h: ConsoleHost) => monitorCommand(path.join(h.run, `kib-${h.name}`, 'monitor.sock'), 'info block cd0');

/** The commands this VM user's processes run: its sshd session, the console, the supervisor and qemu. */
const userCommands = (h: ConsoleHost) => sh('ps', ['-u', String(h.uid), '-o', 'comm=']).stdout.split('\n').filter(Boolean);

test('a command per login: the result, and refusals in one line; no shell, no sftp', () => {
  if (!host) return;
  const h = host;
  const status = h.ssh(['status']);
  assert.is(status.status, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^VM ${h.name} is not running\nautostart: no\nCD:       none\n$`));
  for (const attempt of ['status; sh', 'sh', '!sh', '$(id)', '`id`', 'exec /bin/sh -i', '/bin/bash', 'status && id', 'less /etc/passwd']) {
    const r = h.ssh([attempt]);
    assert.is(r.status, 2, attempt);
    assert.match(r.stderr, /^(unknown command '|usage: status \(no arguments\))/, attempt);
    assert.not.match(r.stdout, /uid=/, attempt);
  }
  for (const [attempt, message] of [
    ['attach-iso ../../../etc/passwd', /^invalid ISO name/],
    ['attach-iso /etc/passwd', /^invalid ISO name/],
    ['install debian ../../etc/shadow', /^invalid preseed file name/],
    ['install debian ..', /^invalid preseed file name/],
    ['start web', /^usage: start \(no arguments\)/],
  ] as const) {
    const r = h.ssh([attempt]);
    assert.is(r.status, 2, attempt);
    assert.match(r.stderr, message, attempt);
  }
  // Without a command and a terminal: the menu reads lines from the pipe, no prompt.
  const piped = h.ssh([], { sshOptions: ['-T'], input: `status\n\u0000\u00ffsh\n${'y'.repeat(300)}\nstatus extra\nquit\nstatus\n` });
  assert.is(piped.status, 0, piped.stderr);
  assert.is(piped.stdout, `VM ${h.name} is not running\nautostart: no\nCD:       none\n`);
  assert.is(
    piped.stderr,
    'binary input ignored: commands are plain text (help lists them)\nline too long (more than 256 characters): ignored\nusage: status (no arguments)\n',
  );
  // The sftp subsystem (internal to sshd here) is the console too, which knows no sftp.
  const sftp = h.ssh(['sftp'], { sshOptions: ['-s'] });
  assert.is(sftp.status, 2);
  assert.match(sftp.stdout, /^ {2}status {2,}/, 'the console answered with its help');
});

test('sshd forwards only to the VM display port, and no environment reaches node', () => {
  if (!host) return;
  const h = host;
  // -W is a direct-tcpip channel, exactly what -L opens.
  const verbose = ['-o', 'LogLevel=INFO'];
  const other = h.ssh([], { sshOptions: [...verbose, '-W', '127.0.0.1:22'] });
  assert.match(other.stderr, /open failed: administratively prohibited/, 'another port is refused');
  const another = h.ssh([], { sshOptions: [...verbose, '-W', `127.0.0.1:${h.displayPort + 1}`] });
  assert.match(another.stderr, /open failed: administratively prohibited/, "another VM's display port is refused");
  const display = h.ssh([], { sshOptions: [...verbose, '-W', `localhost:${h.displayPort}`] });
  assert.match(display.stderr, /open failed: connect failed/, 'the display port is allowed (nothing listens there yet)');
  const remote = h.ssh(['status'], { sshOptions: ['-R', '0:127.0.0.1:22', '-o', 'ExitOnForwardFailure=yes'] });
  assert.is.not(remote.status, 0);
  assert.match(remote.stderr, /remote port forwarding failed/);
  // A client-sent NODE_OPTIONS (accepted by this sshd's AcceptEnv) is overridden by kib's SetEnv.
  const marker = path.join(h.dir, 'node-options-ran');
  const evil = path.join(h.dir, 'evil.cjs');
  writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`, { mode: 0o644 });
  const env = { ...process.env, NODE_OPTIONS: `--require ${evil}` };
  const r = spawnSync('sh', ['-c', `exec ${h.sshCommand().replace('ssh -tt', 'ssh -T -o SendEnv=NODE_OPTIONS')} status`], { encoding: 'utf8', env });
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(existsSync(marker), 'NODE_OPTIONS from the client did not reach the console');
});

test('only VM users get a console: another SSH user, root and nobody are refused in one line', () => {
  if (!host) return;
  const h = host;
  const other = `ctx${process.pid}`.slice(0, 11);
  h.addHostUser(other);
  const r = h.ssh(['status'], { user: other });
  assert.is(r.status, 1);
  assert.is(r.stderr, `kib-console: ${other} is not a kib VM user; kib-console is the login shell of VM users only\n`);
  const asRoot = spawnSync(process.execPath, [CONSOLE, `--root=${h.root}`], { encoding: 'utf8' });
  assert.is(asRoot.status, 1);
  assert.is(asRoot.stderr, 'kib-console: root is not a kib VM user; kib-console is the login shell of VM users only\n');
  const asNobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CONSOLE, `--root=${h.root}`, '-c', 'status'], { encoding: 'utf8' });
  assert.is(asNobody.status, 1);
  assert.match(asNobody.stderr, /^kib-console: nobody is not a kib VM user/);
});

test('on a terminal: the menu runs the VM, its console, its CD; escapes fail; EOF leaves', async () => {
  if (!host || !installed('xorriso')) return;
  const h = host;
  const sock = mkdtempSync(path.join(os.tmpdir(), 'kib-tmux-'));
  const tmux = (...args: string[]) => sh('tmux', ['-S', path.join(sock, 's'), ...args]);
  const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-').stdout;
  const typed = (line: string) => {
    tmux('send-keys', '-l', line);
    tmux('send-keys', 'Enter');
  };
  const count = (text: string) => pane().split(text).length - 1;
  /** Types a line (or does something else) and waits for the text it should print once more. */
  const expect = async (line: string | (() => void) | undefined, text: string, ms = 30_000) => {
    const before = count(text);
    if (typeof line === 'string') typed(line);
    else line?.();
    assert.ok(await until(() => count(text) > before, ms), `'${line}' prints '${text}':\n${pane()}`);
  };
  try {
    const src = path.join(h.dir, 'cd');
    writeFileSync(`${src}.txt`, 'kib test medium\n');
    for (const iso of ['test.iso', 'other.iso']) assert.is(sh('xorriso', ['-as', 'mkisofs', '-quiet', '-o', path.join(h.isoDir, iso), `${src}.txt`]).status, 0);

    assert.is(tmux('new-session', '-d', '-x', '160', '-y', '50', `${h.sshCommand()}; echo KIB-SSH-EXIT=$?; sleep 600`).status, 0);
    await expect(undefined, `kvm-in-a-box console of VM ${h.name}: it is not running`);
    await expect('status', `VM ${h.name} is not running`);

    // Started, then straight into its serial console (typed ahead) to see it boot.
    typed('start');
    await expect('console', 'KIB-GUEST-READY', 90_000);
    assert.match(pane(), new RegExp(`started VM ${h.name}`));
    tmux('send-keys', '-l', 'kibtyped42');
    assert.ok(await until(() => pane().includes('kibtyped42'), 10_000), `the guest echoes what is typed: ${pane()}`);
    await expect(() => tmux('send-keys', 'C-]'), `left VM ${h.name}'s console`);
    await expect('status', `VM ${h.name} is running`);

    // Escapes: each is refused in one line and the menu is still there.
    await expect('status; sh', "unknown command 'status;'");
    await expect('!sh', "unknown command '!sh'");
    await expect('$(sh)', "unknown command '$(sh)'");
    await expect('attach-iso ../../../etc/passwd', "invalid ISO name '../../../etc/passwd'");
    await expect('attach-iso /dev/sda', "invalid ISO name '/dev/sda'");
    await expect('install debian ../.ssh/authorized_keys', "invalid preseed file name '../.ssh/authorized_keys'");
    await expect('console web', 'usage: console (no arguments)');
    await expect('stop other', 'usage: stop (no arguments)');
    await expect('install debian auto', `VM ${h.name} is running: stop it before installing`);
    await expect('start', `VM ${h.name} is already running`);
    await expect(() => ['C-z', 'C-\\', 'C-c'].forEach((key) => tmux('send-keys', key)), '^C');
    await expect(() => typed('x'.repeat(2000)), 'line too long (more than 256 characters): ignored');
    await expect(() => {
      tmux('send-keys', '-H', 'ff', 'fe', '01', 'c3', '28', '7f', '1b', '5b', '5a');
      typed('');
    }, 'binary input ignored');
    await expect('status', `VM ${h.name} is running`);
    const commands = userCommands(h);
    assert.ok(commands.every((c) => ['sshd', 'node', 'qemu-system-x86'].includes(c)), `no shell among the VM user's processes: ${commands}`);

    // A medium changed live, kept for the next start, and ejected.
    await expect('attach-iso', 'test.iso');
    await expect('attach-iso test.iso', `attached test.iso to VM ${h.name}: in the drive now and at every start`);
    assert.match(await cdrom(h), new RegExp(`${path.join(h.isoDir, 'test.iso')} \\(raw, read-only\\)`));
    typed('reboot');
    await expect('console', 'KIB-GUEST-READY', 120_000);
    assert.match(pane(), new RegExp(`restarted VM ${h.name}`));
    await expect(() => tmux('send-keys', 'C-]'), `left VM ${h.name}'s console`);
    assert.match(await cdrom(h), /test\.iso \(raw, read-only\)/, 'the medium is back after the restart');
    await expect('attach-iso other.iso', `attached other.iso to VM ${h.name}: in the drive now and at every start`);
    assert.match(await cdrom(h), /other\.iso \(raw, read-only\)/);
    await expect('detach-iso', `ejected the CD of VM ${h.name} (other.iso)`);
    assert.match(await cdrom(h), /cd0: \[not inserted\]/);

    // Hard reset: qemu ends (-no-reboot) and the VM starts again.
    typed('reset');
    await expect('console', 'KIB-GUEST-READY', 120_000);
    assert.match(pane(), new RegExp(`reset VM ${h.name}: it started again`));
    await expect(() => tmux('send-keys', 'C-]'), `left VM ${h.name}'s console`);

    // The guest arms its power button a moment after its ready line.
    await new Promise((r) => setTimeout(r, 2000));
    await expect('stop', `stopped VM ${h.name}`, 120_000);
    await expect('status', `VM ${h.name} is not running`);
    await expect('display', `VM ${h.name} has no graphical console`);

    // The history is kept in the VM user's home; EOF (^D) ends the session cleanly.
    await expect(() => tmux('send-keys', 'C-d'), 'KIB-SSH-EXIT=0');
    const history = readFileSync(path.join(h.home, '.kib_history'), 'utf8');
    assert.match(history, /^status$/m);
    assert.not.match(history, /x{300}/);
  } finally {
    tmux('kill-server');
    cleanup(sock);
  }
});

test.run();
