// A VM on kib's public bridge, for real: in a network namespace this test creates, kib
// (with --live) makes the bridge and the VM's tap, kib's rendered dnsmasq serves DHCP and
// is told about the new VM, and the tiny test guest, run by exactly the supervisor argv
// its unit runs, as the VM's user, obtains by DHCP the IPv4 kib allocated to it.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, KIB, needed, read, rootFromFixture, sh, tempDir } from '../helpers.ts';
import { GUEST, guest, SUPERVISE, until } from '../supervisor/guest.ts';

const NS = `kib-guestnet-${process.pid}`;

function ready(): boolean {
  if (!installed('dnsmasq') || !installed('setpriv') || !installed('iptables-restore') || !guest()) return false;
  sh('ip', ['netns', 'del', NS]);
  return (
    needed(sh('ip', ['netns', 'add', NS]).status === 0, 'a network namespace') &&
    needed(sh('ip', ['netns', 'exec', NS, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']).status === 0, 'a veth pair')
  );
}

/** kib inside the namespace, with the live plumbing on. */
function kibLive(root: string, ...args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, KIB, '--root', root, '--live', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kib ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Collects what a unix socket says, connecting as soon as it appears. */
function listen(socket: string): { text: () => string; stop: () => void } {
  let text = '';
  let client: net.Socket | undefined;
  let stopped = false;
  const attempt = () => {
    if (stopped) return;
    client = net.connect(socket);
    client.on('data', (d) => (text += d));
    client.on('error', () => setTimeout(attempt, 20));
  };
  attempt();
  return { text: () => text, stop: () => ((stopped = true), client?.destroy()) };
}

test('the guest gets the IPv4 kib allocated to its MAC from kib’s dnsmasq, over its tap and bridge', async () => {
  if (!ready()) return;
  const root = rootFromFixture('clean');
  const run = tempDir('kib-run-');
  const tunMode = statSync('/dev/net/tun').mode & 0o777;
  let dnsmasq: ReturnType<typeof spawn> | undefined;
  let supervisor: ReturnType<typeof spawn> | undefined;
  try {
    writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}storage = none\n`);
    kibLive(root, 'setup');
    // kib's dnsmasq as its service would run it, its host paths under the test root.
    mkdirSync(path.join(root, 'run'), { recursive: true });
    const conf = read(root, 'etc/dnsmasq.d/kib').replace(/^dhcp-hostsfile=\//m, `dhcp-hostsfile=${root}/`);
    writeFileSync(path.join(run, 'dnsmasq.conf'), conf);
    dnsmasq = spawn('ip', ['netns', 'exec', NS, 'dnsmasq', '--keep-in-foreground', `--conf-file=${path.join(run, 'dnsmasq.conf')}`,
      `--pid-file=${path.join(root, 'run/kib-dnsmasq.pid')}`, `--dhcp-leasefile=${path.join(run, 'leases')}`, '--user=root', '--log-dhcp', '--log-facility=-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let dnsmasqLog = '';
    dnsmasq.stderr!.on('data', (d) => (dnsmasqLog += d));
    assert.ok(await until(() => /started/.test(dnsmasqLog) && statSync(path.join(root, 'run/kib-dnsmasq.pid'), { throwIfNoEntry: false }) !== undefined, 10_000), 'timed out waiting for dnsmasq');

    const created = kibLive(root, 'create', 'web', '--public', '--accel', 'tcg', '--mem', '256', '--kernel', path.join(GUEST, 'vmlinuz'),
      '--initrd', path.join(GUEST, 'initrd.gz'), '--append', 'console=ttyS0 quiet panic=-1');
    assert.match(created, /^live: created tap kpu-web \(kib-web, bridge kpu, isolated\)$/m);
    assert.match(created, /^live: reloaded dnsmasq \(pid \d+\): \/etc\/dnsmasq\.kib\.hosts$/m);

    const info = JSON.parse(spawnSync(process.execPath, [KIB, '--root', root, 'info', 'web', '--json'], { encoding: 'utf8' }).stdout) as { argv: string[]; uid: number; ipv4: string; mac: string };
    mkdirSync(path.join(run, 'kib-web'));
    chownSync(run, info.uid, info.uid);
    chownSync(path.join(run, 'kib-web'), info.uid, info.uid);
    // As on a Debian host, where udev makes /dev/net/tun 0666; the tap itself is the VM user's.
    chmodSync('/dev/net/tun', 0o666);
    const args = info.argv.slice(1).map((a) => a.replace(/%t/g, run));
    supervisor = spawn('ip', ['netns', 'exec', NS, 'setpriv', `--reuid=${info.uid}`, `--regid=${info.uid}`, '--clear-groups', process.execPath, SUPERVISE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    supervisor.stdout!.on('data', (d) => (out += d));
    supervisor.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => supervisor!.on('exit', (code) => resolve(code)));
    const serial = listen(path.join(run, 'kib-web', 'ttyS0.sock'));
    try {
      assert.ok(await until(() => serial.text().includes('KIB-GUEST-READY') || supervisor!.exitCode !== null, 90_000), 'timed out waiting for the guest');
    } finally {
      serial.stop();
    }
    assert.match(serial.text(), new RegExp(`KIB-GUEST-IP ${info.ipv4.replace(/\./g, '\\.')}\\b`), `serial: ${serial.text()}\ndnsmasq: ${dnsmasqLog}\nsupervisor: ${out}`);
    assert.match(dnsmasqLog, new RegExp(`DHCPACK\\(kpu\\) ${info.ipv4.replace(/\./g, '\\.')} ${info.mac}`, 'i'));
    await new Promise((r) => setTimeout(r, 1500)); // the guest's power button driver settles
    supervisor.kill('SIGTERM');
    assert.is(await exited, 0, out);
  } finally {
    supervisor?.kill('SIGKILL');
    dnsmasq?.kill('SIGTERM');
    chmodSync('/dev/net/tun', tunMode);
    sh('ip', ['netns', 'del', NS]);
    cleanup(root);
    cleanup(run);
  }
});

test.run();
