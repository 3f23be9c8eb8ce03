// The commands as a user runs them: output modes, dry runs, read-only commands, help,
// completion, and migration from the original kvm-in-a-box.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIpv6Cidr, slaacAddress } from '../../src/model/net.ts';
import { cleanup, KEY1, kib, kibOk, mtimes, read, rootFromFixture, snapshot } from '../helpers.ts';

test('plan prints the unified diff of every change and writes nothing', () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--public', '--forward4', 'tcp:80:8080');
    // Drift: a file deleted, kib's passwd entry and its firewall rules edited by hand.
    rmSync(path.join(root, 'etc/dnsmasq.kib.hosts'));
    writeFileSync(path.join(root, 'etc/passwd'), read(root, 'etc/passwd').replace(':/usr/sbin/kib-console', ':/bin/bash'));
    writeFileSync(path.join(root, 'etc/iptables/rules.v4'), read(root, 'etc/iptables/rules.v4').replace(/^-A KIB_PREROUTING .*\n/m, ''));
    const before = snapshot(root);
    const times = mtimes(root);
    const r = kibOk(root, 'plan');
    assert.match(r.stdout, /^--- a\/etc\/passwd\n\+\+\+ b\/etc\/passwd\n@@ /m);
    assert.match(r.stdout, /^-kib-web:x:30000:30000:kib VM web:\/var\/lib\/kib\/home\/web:\/bin\/bash$/m);
    assert.match(r.stdout, /^\+kib-web:x:30000:30000:kib VM web:\/var\/lib\/kib\/home\/web:\/usr\/sbin\/kib-console$/m);
    assert.match(r.stdout, /^--- \/dev\/null\n\+\+\+ b\/etc\/dnsmasq.kib.hosts$/m);
    assert.match(r.stdout, /^\+-A KIB_PREROUTING /m);
    assert.match(r.stdout, /^would create \/etc\/dnsmasq.kib.hosts$/m);
    assert.match(r.stdout, /^would update \/etc\/passwd$/m);
    assert.equal(snapshot(root), before, 'nothing written');
    assert.equal(mtimes(root), times, 'nothing rewritten');
    // apply repairs exactly that drift.
    kibOk(root, 'apply');
    assert.is(kibOk(root, 'plan').stdout, '');
  } finally {
    cleanup(root);
  }
});

test('only setup starts without a state file, and never over kib\'s own files', () => {
  const root = rootFromFixture('clean');
  try {
    const before = snapshot(root);
    const r = kib(root, 'create', 'web');
    assert.is(r.status, 1);
    assert.match(r.stderr, /^kib: kib is not set up on this host \(no \/var\/lib\/kib\/state\.json\); run 'kib setup' first\n$/);
    assert.is(kib(root, 'plan').status, 1);
    assert.equal(snapshot(root), before, 'a refused command leaves no trace, not even the lock');
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--public');
    rmSync(path.join(root, 'var/lib/kib/state.json'));
    const lost = kib(root, 'setup');
    assert.is(lost.status, 1);
    assert.match(lost.stderr, /state\.json is missing but kib's files are here .*kib-web\.service.*; restore the state file from a backup/);
    assert.match(kib(root, 'apply').stderr, /not set up/);
    assert.match(read(root, 'etc/passwd'), /^kib-web:/m, 'nothing was reset');
  } finally {
    cleanup(root);
  }
});

test('--dry-run create shows what it would do and changes nothing', () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, 'setup');
    const before = snapshot(root);
    const times = mtimes(root);
    const r = kibOk(root, 'create', 'web', '--public', '--dry-run');
    assert.match(r.stdout, /^\+kib-web:x:30000:30000:kib VM web:\/var\/lib\/kib\/home\/web:\/usr\/sbin\/kib-console$/m);
    assert.match(r.stdout, /^would create \/etc\/systemd\/user\/kib-web.service$/m);
    assert.equal(snapshot(root), before);
    assert.equal(mtimes(root), times);
    assert.is(kibOk(root, 'list').stdout, '');
  } finally {
    cleanup(root);
  }
});

test('output: one line per change, -q silent, -v every resource, --json a document', () => {
  const root = rootFromFixture('clean');
  try {
    const setup = kibOk(root, 'setup');
    assert.match(setup.stdout, /^updated \/etc\/group$/m);
    assert.match(setup.stdout, /^created \/etc\/iptables\/rules.v4$/m);
    assert.not.match(setup.stdout, /unchanged/);

    assert.is(kibOk(root, '-q', 'create', 'a', '--public').stdout, '');
    const verbose = kibOk(root, '-v', 'apply').stdout;
    assert.match(verbose, /^unchanged \/etc\/passwd$/m);
    assert.match(verbose, /^unchanged \/etc\/systemd\/user\/kib-a.service$/m);

    const json = JSON.parse(kibOk(root, '--json', 'create', 'b', '--private', '--ssh-key', KEY1).stdout);
    assert.is(json.dryRun, false);
    assert.is(json.vm.name, 'b');
    assert.is(json.vm.uid, 30001);
    assert.match(json.vm.mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
    assert.ok(json.changes.some((c: { path: string; action: string }) => c.path === '/etc/ssh/authorized_keys/kib-b' && c.action === 'create'));
    assert.equal(JSON.parse(kibOk(root, '--json', 'apply').stdout).changes, []);
  } finally {
    cleanup(root);
  }
});

test('list, info and list-resources read without changing anything', () => {
  const root = rootFromFixture('busy');
  try {
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--public', '--forward4', 'tcp:80:8080', '--accel', 'tcg', '--kernel', '/boot/vmlinuz', '--append', 'console=ttyS0 quiet');
    kibOk(root, 'create', 'db', '--private');
    const times = mtimes(root);
    assert.is(kibOk(root, 'list').stdout, 'db\nweb\n');
    assert.equal(JSON.parse(kibOk(root, 'list', '--json').stdout), ['db', 'web']);

    const info = JSON.parse(kibOk(root, 'info', 'web', '--json').stdout);
    assert.is(info.user, 'kib-web');
    assert.is(info.ipv4, '10.0.0.2');
    assert.is(info.ipv6.public, slaacAddress(parseIpv6Cidr('2001:db8::2/64')!, info.mac), 'the SLAAC address of its MAC');
    assert.is(info.argv[0], '/usr/sbin/kib-supervise');
    assert.ok(info.argv.includes('-sandbox'));
    assert.ok(info.argv.includes('pc,accel=tcg'));
    assert.is(info.argv[info.argv.indexOf('-append') + 1], 'console=ttyS0 quiet');
    // The unit runs exactly that argv (systemd quoting aside).
    assert.match(read(root, 'etc/systemd/user/kib-web.service'), /^ExecStart=\/usr\/sbin\/kib-supervise .* -append "console=ttyS0 quiet"$/m);

    const human = kibOk(root, 'info', 'db').stdout;
    assert.match(human, /^user: +kib-db \(uid 30001\)$/m);
    assert.match(human, /^networks: +private$/m);

    const paths = kibOk(root, 'list-resources').stdout.split('\n');
    for (const p of ['/etc/passwd', '/etc/ssh/sshd_config', '/etc/iptables/rules.v6', '/etc/systemd/user/kib-web.service', '/var/lib/systemd/linger/kib-db', '/etc/udev/rules.d/60-kib.rules']) {
      assert.ok(paths.includes(p), p);
    }
    assert.equal(mtimes(root), times, 'read-only commands write nothing');
  } finally {
    cleanup(root);
  }
});

test('every command has --help; completion prints a bash script', () => {
  const root = rootFromFixture('clean');
  try {
    for (const cmd of ['setup', 'create', 'change', 'remove', 'list', 'info', 'list-resources', 'plan', 'apply']) {
      const r = kibOk(root, cmd, '--help');
      assert.match(r.stdout, new RegExp(`kib ${cmd}`), cmd);
      assert.match(r.stdout, /--root/);
    }
    const top = kibOk(root, '--help').stdout;
    for (const cmd of ['setup', 'create', 'change', 'remove', 'list-resources', 'plan', 'apply', 'completion']) assert.match(top, new RegExp(`kib ${cmd}`));
    assert.match(kibOk(root, 'completion').stdout, /complete -o bashdefault -o default -F _kib_yargs_completions kib|_kib_yargs_completions/);
    const none = kib(root);
    assert.is.not(none.status, 0);
    assert.match(none.stderr, /^kib: no command given/);
  } finally {
    cleanup(root);
  }
});

test('a state file of the original kvm-in-a-box is migrated on first use', () => {
  const root = rootFromFixture('clean');
  try {
    mkdirSync(path.join(root, 'var/lib/kib'), { recursive: true });
    const legacy = {
      net: { vm: ['02:00:00:00:00:01', '10.0.0.7'], old: ['02:00:00:00:00:02', '10.0.0.3'] },
      vms: {
        vm: {
          name: 'vm',
          cfg: { arch: 'x86_64', drive_device: 'virtio' },
          sys_cfg: { vg: 'vg0', add_disks: ['data'], authorized_keys: [KEY1] },
          net_cfg: { user_if: false, public_if: true, private_if: false, group_ifs: [], forwarded_ports4: [['tcp', [443, 8443]]], open_ports6: [['tcp', 22]] },
          q_cfg: { cpus: 2, mem: 1024 },
        },
        old: {
          name: 'old',
          cfg: { arch: 'x86_64' },
          sys_cfg: { vg: 'vg0', add_disks: [], authorized_keys: [] },
          net_cfg: { user_if: true, public_if: false, private_if: true, group_ifs: [], forwarded_ports4: [], open_ports6: [] },
          q_cfg: { cpus: 1, mem: 512 },
        },
      },
    };
    writeFileSync(path.join(root, 'var/lib/kib/state'), `kvm-in-a-box state format: v4.1\n${JSON.stringify(legacy)}\n`);
    // The original created kib-vm already; its uid stays.
    writeFileSync(path.join(root, 'etc/passwd'), `${read(root, 'etc/passwd')}kib-vm:x:1500:1500::/var/lib/kib/home/vm:/usr/sbin/kib-console\n`);
    writeFileSync(path.join(root, 'etc/group'), `${read(root, 'etc/group')}kib-vm:x:1500:\n`);

    const times = mtimes(root);
    assert.is(kibOk(root, 'list').stdout, 'old\nvm\n', 'list shows the VMs of the legacy state');
    assert.equal(mtimes(root), times, 'list does not migrate by itself');
    kibOk(root, 'apply');
    const info = JSON.parse(kibOk(root, 'info', 'vm', '--json').stdout);
    assert.is(info.uid, 1500);
    assert.is(info.mac, '02:00:00:00:00:01');
    assert.is(info.ipv4, '10.0.0.7');
    assert.is(info.cpus, 2);
    assert.is(info.memMiB, 1024);
    assert.equal(info.disks.map((d: { name: string }) => d.name), ['data']);
    assert.is(info.storage, 'lvm');
    assert.equal(info.forward4, [{ proto: 'tcp', internal: 443, external: 8443 }]);
    assert.equal(info.open6, [{ proto: 'tcp', port: 22 }]);
    assert.equal(info.sshKeys, [KEY1]);
    const old = JSON.parse(kibOk(root, 'info', 'old', '--json').stdout);
    assert.is(old.ipv4, '10.0.0.3');
    assert.ok(old.uid >= 30000, 'a VM without a user gets a fresh uid');
    assert.match(read(root, 'etc/passwd'), /^kib-vm:x:1500:1500:kib VM vm:/m);
    assert.is((read(root, 'etc/passwd').match(/^kib-vm:/gm) ?? []).length, 1);
    assert.ok(existsSync(path.join(root, 'var/lib/kib/state')), 'the legacy file is kept');
    // New VMs get addresses the migrated ones do not hold.
    const fresh = JSON.parse(kibOk(root, '--json', 'create', 'new', '--public').stdout);
    assert.ok(!['10.0.0.7', '10.0.0.3'].includes(fresh.vm.ipv4));
  } finally {
    cleanup(root);
  }
});

test('a state file edited by hand is validated in full and sealed again on the next write', () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--public');
    const file = path.join(root, 'var/lib/kib/state.json');
    writeFileSync(file, read(root, 'var/lib/kib/state.json').replace('"cpus":1', '"cpus":2'));
    kibOk(root, 'apply');
    assert.match(read(root, 'etc/systemd/user/kib-web.service'), / -smp 2 /);
    kibOk(root, 'change', 'web', '--cpus', '1');
    assert.match(read(root, 'var/lib/kib/state.json'), /^\{"digest":"fnv1a:[0-9a-f]{16}",$/m);
    writeFileSync(file, read(root, 'var/lib/kib/state.json').replace('"cpus":1', '"cpus":-1'));
    const bad = kib(root, 'apply');
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /state\.json is invalid at vms\.web\.cpus/);
  } finally {
    cleanup(root);
  }
});

test.run();
