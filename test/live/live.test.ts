// The live plumbing in a network namespace this test creates: after a reconcile with
// --live, the namespace has kib's bridges (with their addresses), each VM's taps (owned
// by the VM's uid, enslaved, isolated on the public and private bridges) and kib's
// firewall rules next to foreign ones; a second run changes nothing; changes and removals
// follow; a failure is reported and the files stay in place; teardown takes kib's away.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, KIB, needed, rootFromFixture, sh, type KibRun } from '../helpers.ts';

const NS = `kib-live-${process.pid}`;

/** A fresh namespace for each test, with the config's upstream interface (eth0) in it. */
function freshNamespace(): boolean {
  sh('ip', ['netns', 'del', NS]);
  return (
    needed(sh('ip', ['netns', 'add', NS]).status === 0, 'a network namespace') &&
    needed(sh('ip', ['netns', 'exec', NS, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']).status === 0, 'a veth pair') &&
    needed(sh('sh', ['-c', 'command -v iptables-save && command -v ip6tables-restore']).status === 0, 'iptables')
  );
}

/** kib run inside the namespace. */
function kibIn(root: string, ...args: string[]): KibRun {
  const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, KIB, '--root', root, ...args], { encoding: 'utf8' });
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

function kibInOk(root: string, ...args: string[]): KibRun {
  const r = kibIn(root, ...args);
  if (r.status !== 0) throw new Error(`kib ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

const inNs = (cmd: string, ...args: string[]) => sh('ip', ['netns', 'exec', NS, cmd, ...args]);
const liveLines = (r: KibRun) => r.stdout.split('\n').filter((l) => l.startsWith('live: '));

interface LinkInfo {
  ifname: string;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: { user?: number }; info_slave_data?: { isolated?: boolean } };
}
function links(): Map<string, LinkInfo> {
  const list = JSON.parse(inNs('ip', '-j', '-d', 'link', 'show').stdout) as LinkInfo[];
  return new Map(list.map((l) => [l.ifname, l]));
}
const addresses = (dev: string) =>
  (JSON.parse(inNs('ip', '-j', 'addr', 'show', 'dev', dev).stdout) as { addr_info: { local: string; prefixlen: number }[] }[])[0].addr_info.map(
    (a) => `${a.local}/${a.prefixlen}`,
  );

test('bridges, taps and firewall follow create, change and remove; a second run changes nothing', () => {
  if (!freshNamespace()) return;
  const root = rootFromFixture('busy');
  try {
    // Foreign live rules: kib's restore must keep them.
    assert.is(inNs('iptables', '-A', 'INPUT', '-s', '192.0.2.7', '-j', 'DROP').status, 0);
    assert.is(inNs('iptables', '-N', 'ADMIN').status, 0);
    assert.is(inNs('iptables', '-A', 'ADMIN', '-p', 'tcp', '--dport', '25', '-j', 'REJECT').status, 0);

    const setup = kibInOk(root, '--live', 'setup');
    assert.ok(liveLines(setup).includes('live: set net.ipv4.ip_forward = 1'), setup.stdout);
    assert.ok(liveLines(setup).some((l) => l.startsWith('live: created bridge kpu (10.0.0.1/16')), setup.stdout);

    kibInOk(root, '--live', 'create', 'web', '--public', '--private', '--net-group', '7', '--forward4', 'tcp:80:8080', '--open6', 'tcp:443');
    const db = kibInOk(root, '--live', 'create', 'db', '--public', '--net-group', '7');
    // db forwards no port and opens none: its taps are all that change live.
    assert.equal(liveLines(db), ['live: created tap kpu-db (kib-db, bridge kpu, isolated)', 'live: created tap kg0-db (kib-db, bridge kgr7)'], db.stdout);
    const uid = (name: string) => (JSON.parse(kibInOk(root, 'info', name, '--json').stdout) as { uid: number }).uid;

    const l = links();
    assert.is(l.get('kpu')?.linkinfo?.info_kind, 'bridge');
    assert.ok(addresses('kpu').includes('10.0.0.1/16'), String(addresses('kpu')));
    assert.ok(addresses('kgr7').some((a) => a.endsWith(':7::2/64')), String(addresses('kgr7')));
    for (const [tap, bridge, owner, isolated] of [
      ['kpu-web', 'kpu', 'web', true],
      ['kpr-web', 'kpr', 'web', true],
      ['kg0-web', 'kgr7', 'web', false],
      ['kpu-db', 'kpu', 'db', true],
      ['kg0-db', 'kgr7', 'db', false],
    ] as const) {
      const link = l.get(tap);
      assert.ok(link, `${tap} exists`);
      assert.is(link!.linkinfo?.info_kind, 'tun');
      assert.is(link!.linkinfo?.info_data?.user, uid(owner), `${tap} owned by kib-${owner}`);
      assert.is(link!.master, bridge);
      assert.ok(link!.flags.includes('UP'), `${tap} up`);
      assert.is(link!.linkinfo?.info_slave_data?.isolated, isolated, `${tap} isolation`);
    }
    const v4 = inNs('iptables-save').stdout;
    assert.match(v4, /-A KIB_PREROUTING -i eth0 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8080 -j DNAT --to-destination 10\.0\.0\.2:80/);
    assert.match(v4, /-A INPUT -s 192\.0\.2\.7\/32 -j DROP/);
    assert.match(v4, /-A ADMIN -p tcp -m tcp --dport 25 -j REJECT/);
    assert.match(inNs('ip6tables-save').stdout, /KIB_FORWARD .*--dport 443 -j ACCEPT/);

    const again = kibInOk(root, '--live', '-v', 'apply');
    assert.equal(liveLines(again), [], `second run: ${again.stdout}`);

    const changed = kibInOk(root, '--live', 'change', 'web', '--no-private', '--no-net-group', '--no-forward4');
    assert.equal(liveLines(changed), ['live: deleted tap kpr-web', 'live: deleted tap kg0-web', 'live: loaded IPv4 firewall rules (iptables-restore)']);
    const removed = kibInOk(root, '--live', 'remove', 'db');
    assert.equal(liveLines(removed).slice(0, 3), ['live: deleted tap kpu-db', 'live: deleted tap kg0-db', 'live: deleted bridge kgr7']);
    assert.equal([...links().keys()].filter((n) => /^k/.test(n)).sort(), ['kpr', 'kpu', 'kpu-web']);
    const after = inNs('iptables-save').stdout;
    assert.not.match(after, /--dport 8080/);
    assert.match(after, /-A INPUT -s 192\.0\.2\.7\/32 -j DROP/);
    assert.match(after, /-A ADMIN -p tcp -m tcp --dport 25 -j REJECT/);
    assert.equal(liveLines(kibInOk(root, '--live', 'apply')), []);
  } finally {
    cleanup(root);
  }
});

test('dry run says what it would do and does nothing; --no-live and other roots leave the host alone', () => {
  if (!freshNamespace()) return;
  const root = rootFromFixture('clean');
  try {
    kibInOk(root, '--no-live', 'setup');
    kibInOk(root, 'create', 'web', '--public');
    const before = inNs('ip', '-br', 'link').stdout;
    assert.not.match(before, /kpu-web/, 'no live change without --live under another root');
    const plan = kibInOk(root, '--live', '--dry-run', 'apply');
    assert.ok(liveLines(plan).includes('live: would create tap kpu-web (kib-web, bridge kpu, isolated)'), plan.stdout);
    assert.is(inNs('ip', '-br', 'link').stdout, before);
    const json = JSON.parse(kibInOk(root, '--live', '--json', 'apply').stdout) as { live: string[] };
    assert.ok(json.live.includes('live: created tap kpu-web (kib-web, bridge kpu, isolated)'), String(json.live));
  } finally {
    cleanup(root);
  }
});

test('a live failure is reported, the other steps still run, and the files are in place', () => {
  if (!freshNamespace()) return;
  const root = rootFromFixture('clean');
  try {
    // Something that is not a bridge holds the private bridge's name.
    assert.is(inNs('ip', 'link', 'add', 'kpr', 'type', 'veth', 'peer', 'name', 'kprp').status, 0);
    const r = kibIn(root, '--live', 'setup');
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /^live: failed to update bridge kpr: kpr exists and is not a bridge$/m);
    assert.match(r.stderr, /^kib: a live change did not happen \(see above\); the files are in place: fix the cause and run 'kib apply'$/m);
    assert.ok(existsSync(path.join(root, 'etc/iptables/rules.v4')));
    assert.ok(links().has('kpu'), 'the public bridge was still made');
    assert.match(inNs('iptables-save').stdout, /KIB_INPUT/);
  } finally {
    cleanup(root);
  }
});

test('teardown --live deletes kib\'s bridges and firewall chains, keeps foreign rules and kernel settings', () => {
  if (!freshNamespace()) return;
  const root = rootFromFixture('busy');
  try {
    assert.is(inNs('iptables', '-A', 'INPUT', '-s', '192.0.2.7', '-j', 'DROP').status, 0);
    kibInOk(root, '--live', 'setup');
    kibInOk(root, '--live', 'create', 'web', '--public', '--private', '--net-group', '7');
    kibInOk(root, '--live', 'remove', 'web');
    const r = kibInOk(root, '--live', 'teardown');
    assert.ok(liveLines(r).includes('live: deleted bridge kpu'), r.stdout);
    assert.ok(!liveLines(r).some((l) => l.startsWith('live: set ')), r.stdout);
    assert.equal([...links().keys()].filter((n) => /^k(pu|pr|g)/.test(n)), []);
    for (const save of ['iptables-save', 'ip6tables-save']) assert.not.match(inNs(save).stdout, /KIB_/, save);
    assert.match(inNs('iptables-save').stdout, /-A INPUT -s 192\.0\.2\.7\/32 -j DROP/);
  } finally {
    cleanup(root);
  }
});

test.after(() => {
  sh('ip', ['netns', 'del', NS]);
});
test.run();
