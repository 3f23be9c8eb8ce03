// The files kib renders pass the real validators: iptables-restore and ip6tables-restore
// --test, sshd -t, dnsmasq --test, pwck and grpck. Each check runs where its tool is
// installed (CI installs them all).
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, installed, KEY1, kibOk, rootFromFixture, sh } from './helpers.ts';

/** A root with every network mode, forwards and extra disks in use. */
function busyRoot(): string {
  const root = rootFromFixture('busy');
  kibOk(root, 'setup');
  kibOk(root, 'create', 'web', '--public', '--forward4', 'tcp:80:8080', '--open6', 'tcp:443', '--ssh-key', KEY1, '--add-disk', 'data');
  kibOk(root, 'create', 'db', '--private', '--net-group', '5', '--user');
  kibOk(root, 'create', 'ci', '--public', '--net-group', '5', '--net-group', '12');
  return root;
}

const root = busyRoot();

test('rules.v4 passes iptables-restore --test', () => {
  if (!installed('iptables-restore')) return;
  const r = sh('iptables-restore', ['--test', path.join(root, 'etc/iptables/rules.v4')]);
  assert.is(r.status, 0, r.stderr);
});

test('rules.v6 passes ip6tables-restore --test', () => {
  if (!installed('ip6tables-restore')) return;
  const r = sh('ip6tables-restore', ['--test', path.join(root, 'etc/iptables/rules.v6')]);
  assert.is(r.status, 0, r.stderr);
});

test('sshd_config passes sshd -t', () => {
  if (!installed('sshd')) return;
  // sshd -t wants its privilege separation directory, which a running sshd's service makes.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const r = sh('sshd', ['-t', '-f', path.join(root, 'etc/ssh/sshd_config')]);
  assert.is(r.status, 0, r.stderr);
  // The Match block applies to kib's users: sshd -T for one of them shows its settings.
  const t = sh('sshd', ['-T', '-f', path.join(root, 'etc/ssh/sshd_config'), '-C', 'user=kib-web,host=h,addr=127.0.0.1,group=kib']);
  if (t.status === 0) {
    assert.match(t.stdout, /authorizedkeysfile \/etc\/ssh\/authorized_keys\/%u/);
    assert.match(t.stdout, /allowtcpforwarding no/);
    assert.match(t.stdout, /permituserrc no/);
  }
});

test('dnsmasq.d/kib passes dnsmasq --test', () => {
  if (!installed('dnsmasq')) return;
  const r = sh('dnsmasq', ['--test', `--conf-file=${path.join(root, 'etc/dnsmasq.d/kib')}`]);
  assert.is(r.status, 0, r.stderr);
});

test('passwd, shadow, group and gshadow pass pwck -r and grpck -r', () => {
  if (!installed('pwck')) return;
  // Give kib's users their shell inside the root; foreign users' missing homes and
  // shells are the fixture's, not kib's.
  mkdirSync(path.join(root, 'usr/sbin'), { recursive: true });
  writeFileSync(path.join(root, 'usr/sbin/kib-console'), '#!/bin/sh\n');
  chmodSync(path.join(root, 'usr/sbin/kib-console'), 0o755);
  const pw = sh('pwck', ['-r', '-R', root]);
  const complaints = (pw.stdout + pw.stderr).split('\n').filter((l) => /'kib-(web|db|ci)'|kib-console/.test(l));
  assert.equal(complaints, [], 'pwck has no complaint about kib users');
  assert.not.match(pw.stdout + pw.stderr, /duplicate|invalid|no matching/i);
  const gr = sh('grpck', ['-r', '-R', root]);
  assert.is(gr.status, 0, gr.stdout + gr.stderr);
});

test.after(() => cleanup(root));
test.run();
