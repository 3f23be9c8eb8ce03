// kib console against the real test guest run by the real supervisor as the VM's user:
// on a terminal (tmux) it waits for the starting VM, shows its serial console, sends keys
// (the guest's tty echoes them), and ^] leaves with the terminal restored; piped, it
// copies both ways and ends at the end of stdin or when the VM stops. And its errors.
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, kib, kibOk, KIB, rootFromFixture, sh, tempDir } from '../helpers.ts';
import { declareGuestVm, guest, superviseAsUser, until } from '../supervisor/guest.ts';

/** A tmux server of this test's own (its socket in a temp directory), so that nothing else is touched. */
const TMUX_DIR = tempDir('kib-tmux-');
const tmux = (...args: string[]) => sh('tmux', ['-S', path.join(TMUX_DIR, 'socket'), ...args]);
const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-').stdout;

/** The console run as a script would: stdin a pipe, output collected. */
function pipedConsole(root: string, run: string) {
  const child = spawn(process.execPath, [KIB, '--root', root, 'console', 'web', '--runtime-dir', run, '--wait', '60'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  child.on('exit', (code) => (out.code = code));
  return { child, out };
}

test('on a terminal: waits for the VM, shows its console, sends keys, ^] leaves with exit 0 and the terminal restored', async () => {
  if (!guest() || !installed('setpriv') || !installed('tmux')) return;
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  let supervisor: ReturnType<typeof superviseAsUser> | undefined;
  try {
    const { args, uid } = declareGuestVm(root, 'web', run);
    // The shell reports kib's exit status, then whether the terminal is canonical again.
    const script = `env -u FORCE_COLOR -u NO_COLOR ${process.execPath} ${KIB} --root ${root} console web --runtime-dir ${run} --wait 60; ` +
      `echo KIB-EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e -icanon -e icanon | sed 's/^/KIB-TTY=/'; exec sleep 600`;
    assert.is(tmux('new-session', '-d', '-x', '160', '-y', '50', script).status, 0);
    assert.ok(await until(() => pane().includes("waiting for VM web's console (up to 60s)"), 10_000), `the console waits: ${pane()}`);
    supervisor = superviseAsUser(args, uid);
    assert.ok(await until(() => pane().includes('KIB-GUEST-READY')), `the guest's ready line: ${pane()}`);
    assert.match(pane(), /connected to VM web's console; \^\] leaves/);
    tmux('send-keys', '-l', 'kibtyped42');
    assert.ok(await until(() => pane().includes('kibtyped42'), 10_000), `the guest echoes what is typed: ${pane()}`);
    tmux('send-keys', 'C-]');
    assert.ok(await until(() => pane().includes('KIB-TTY='), 10_000), `kib leaves: ${pane()}`);
    const screen = pane();
    assert.match(screen, /^left VM web's console$/m);
    assert.match(screen, /^KIB-EXIT=0$/m);
    assert.match(screen, /^KIB-TTY=icanon$/m, 'the terminal is back in canonical mode');
  } finally {
    tmux('kill-server');
    if (supervisor && supervisor.exitCode === null) {
      supervisor.kill('SIGTERM');
      await until(() => supervisor!.exitCode !== null, 30_000);
    }
    cleanup(root);
    cleanup(run);
  }
});

test('piped: copies both ways, ends at the end of stdin, and ends when the VM stops', async () => {
  if (!guest() || !installed('setpriv')) return;
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  let supervisor: ReturnType<typeof superviseAsUser> | undefined;
  try {
    const { args, uid } = declareGuestVm(root, 'web', run);
    const first = pipedConsole(root, run);
    assert.ok(await until(() => first.out.stderr.includes("waiting for VM web's console"), 10_000), first.out.stderr);
    supervisor = superviseAsUser(args, uid);
    assert.ok(await until(() => first.out.stdout.includes('KIB-GUEST-READY')), `the ready line: ${first.out.stdout}${first.out.stderr}`);
    first.child.stdin.write('kibpiped7\n');
    assert.ok(await until(() => first.out.stdout.includes('kibpiped7'), 10_000), `the guest echoes the input: ${first.out.stdout}`);
    first.child.stdin.end();
    assert.ok(await until(() => first.out.code !== undefined, 10_000), 'the end of stdin ends the console');
    assert.is(first.out.code, 0, first.out.stderr);
    assert.is(first.out.stderr, "waiting for VM web's console (up to 60s)\n", 'no notes besides the wait when piped');

    // A console left open while the VM powers off ends with the VM, exit 0.
    const second = pipedConsole(root, run);
    second.child.stdin.write('kibagain\n');
    assert.ok(await until(() => second.out.stdout.includes('kibagain'), 10_000), `attached again: ${second.out.stdout}${second.out.stderr}`);
    supervisor.kill('SIGTERM');
    assert.ok(await until(() => second.out.code !== undefined, 60_000), 'the console ends when the VM stops');
    assert.is(second.out.code, 0, second.out.stderr);
    assert.match(second.out.stdout, /KIB-GUEST-POWEROFF/);
    assert.is(second.out.stderr, '');
  } finally {
    if (supervisor && supervisor.exitCode === null) {
      supervisor.kill('SIGTERM');
      await until(() => supervisor!.exitCode !== null, 30_000);
    }
    cleanup(root);
    cleanup(run);
  }
});

test('errors: an unknown VM at once; no console within --wait; bad --wait', () => {
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  try {
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--storage', 'none');
    const unknown = kib(root, 'console', 'nope', '--runtime-dir', run);
    assert.is(unknown.status, 2);
    assert.is(unknown.stderr, "kib: no VM named 'nope'\n");

    const started = Date.now();
    const missing = kib(root, 'console', 'web', '--runtime-dir', run, '--wait', '1');
    const elapsed = Date.now() - started;
    assert.is(missing.status, 1);
    assert.is(missing.stderr, `waiting for VM web's console (up to 1s)\nkib: VM web is not running: no console at ${path.join(run, 'kib-web/ttyS0.sock')} after 1s\n`);
    assert.ok(elapsed >= 900 && elapsed < 10_000, `waited about a second: ${elapsed} ms`);

    const now = kib(root, 'console', 'web', '--runtime-dir', run, '--wait', '0');
    assert.is(now.status, 1);
    assert.is(now.stderr, `kib: VM web is not running: no console at ${path.join(run, 'kib-web/ttyS0.sock')}\n`);

    // The VM's directory is writable by its qemu: a link in place of the socket is refused.
    mkdirSync(path.join(run, 'kib-web'));
    const other = net.createServer().listen(path.join(run, 'other.sock'));
    try {
      symlinkSync(path.join(run, 'other.sock'), path.join(run, 'kib-web/ttyS0.sock'));
      const linked = kib(root, 'console', 'web', '--runtime-dir', run, '--wait', '0');
      assert.is(linked.status, 1);
      assert.is(linked.stderr, `kib: cannot connect to ${path.join(run, 'kib-web/ttyS0.sock')}: not a socket\n`);
    } finally {
      other.close();
    }

    for (const wait of ['-1', 'soon']) {
      const bad = kib(root, 'console', 'web', '--wait', wait);
      assert.is(bad.status, 2, wait);
      assert.match(bad.stderr, /^kib: --wait takes seconds/, wait);
    }
  } finally {
    cleanup(root);
    cleanup(run);
  }
});

test.after(() => cleanup(TMUX_DIR));

test.run();
