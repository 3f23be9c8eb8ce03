// kib start|stop|restart|kill|status: the systemctl command they run as the VM's user,
// how the unit's state reads, and their errors on this host, whose PID 1 is not systemd
// (so no user manager ever runs here; test/e2e runs them under systemd for real).
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatStatus, parseShow, systemctlCommand, type VmRuntime } from '../../src/runtime/user-manager.ts';
import { cleanup, kib, kibOk, rootFromFixture } from '../helpers.ts';

const WEB: VmRuntime = { name: 'web', user: 'kib-web', uid: 30000, unit: 'kib-web.service', runtimeDir: '/run/user/30000' };

test('systemctl --user runs as the VM user, with its runtime directory and nothing else of the caller', () => {
  assert.equal(systemctlCommand(WEB, ['start', 'kib-web.service']), {
    file: 'setpriv',
    args: ['--reuid=30000', '--regid=30000', '--clear-groups', '--', 'systemctl', '--user', '--no-pager', 'start', 'kib-web.service'],
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      XDG_RUNTIME_DIR: '/run/user/30000',
      SYSTEMD_PAGER: 'cat',
      SYSTEMD_COLORS: '0',
      LC_ALL: 'C.UTF-8',
    },
  });
});

test('status: systemctl show read into one fact a line, and as JSON', () => {
  const running = parseShow(WEB, 'MainPID=4242\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nStateChangeTimestamp=@1750000000\n');
  assert.equal(running, {
    name: 'web',
    unit: 'kib-web.service',
    running: true,
    summary: 'running',
    loadState: 'loaded',
    activeState: 'active',
    subState: 'running',
    result: 'success',
    mainPid: 4242,
    since: '2025-06-15T15:06:40Z',
  });
  assert.equal(formatStatus(running), ['VM web is running', 'state:    active (running)', 'main PID: 4242', 'since:    2025-06-15T15:06:40Z']);

  const failed = parseShow(WEB, 'MainPID=0\nLoadState=loaded\nActiveState=failed\nSubState=failed\nResult=signal\nStateChangeTimestamp=@1750000000\n');
  assert.is(failed.running, false);
  assert.equal(formatStatus(failed), ['VM web is not running', 'state:    failed (failed), result: signal', 'since:    2025-06-15T15:06:40Z']);

  const never = parseShow(WEB, 'MainPID=0\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nResult=success\nStateChangeTimestamp=\n');
  assert.equal(formatStatus(never), ['VM web is not running', 'state:    inactive (dead)']);

  const unknown = parseShow(WEB, 'MainPID=0\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nResult=success\nStateChangeTimestamp=\n');
  assert.equal(formatStatus(unknown), [
    'VM web is not running',
    'unit:     kib-web.service is not-found in the user manager (kib apply renders and loads it)',
    'state:    inactive (dead)',
  ]);

  const restarting = parseShow(WEB, 'MainPID=0\nLoadState=loaded\nActiveState=activating\nSubState=auto-restart\nResult=exit-code\n');
  assert.is(formatStatus(restarting)[0], 'VM web is restarting');
  assert.is(restarting.running, false);
});

test('every action: no such VM, and a user manager that is not running, as one line each', () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--storage', 'none');
    const uid = 30000;
    for (const action of ['start', 'stop', 'restart', 'kill', 'status']) {
      const unknown = kib(root, action, 'nope');
      assert.is(unknown.status, 2, action);
      assert.is(unknown.stderr, "kib: no VM named 'nope'\n", action);
      if (existsSync(`/run/user/${uid}`)) continue; // a real user of that uid here: not this test's business
      const down = kib(root, action, 'web');
      assert.is(down.status, 1, action);
      assert.is(down.stdout, '', action);
      assert.is(
        down.stderr,
        `kib: VM web: the systemd user manager of kib-web is not running (no /run/user/${uid}/systemd/private); 'kib apply' or 'loginctl enable-linger kib-web' starts it\n`,
        action,
      );
    }
    assert.is(kib(root, 'start').status, 2, 'a VM name is required');
  } finally {
    cleanup(root);
  }
});

test('help: every command listed; kill says it is a hard stop', () => {
  const root = rootFromFixture('clean');
  try {
    const help = kibOk(root, '--help').stdout;
    for (const command of ['start', 'stop', 'restart', 'kill', 'status', 'console']) assert.match(help, new RegExp(`^  kib ${command} <name> `, 'm'));
    const kill = kibOk(root, 'kill', '--help').stdout;
    assert.match(kill, /Hard stop: SIGKILL/);
    assert.match(kill, /Use stop for a clean shutdown/);
    assert.match(kibOk(root, 'console', '--help').stdout, /\^\] \(Ctrl\+\]\) leaves/);
  } finally {
    cleanup(root);
  }
});

test.run();
