// Foreign content kib must keep byte for byte, whatever it looks like, and user text that
// must reach rendered files literally.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, kibOk, read, rootFromFixture } from '../helpers.ts';

const bytes = (root: string, rel: string) => readFileSync(path.join(root, rel));
const append = (root: string, rel: string, text: string | Buffer) =>
  writeFileSync(path.join(root, rel), Buffer.concat([bytes(root, rel), Buffer.isBuffer(text) ? text : Buffer.from(text)]));

test('bytes that are not UTF-8 in a foreign line survive', () => {
  const root = rootFromFixture('busy');
  try {
    const line = Buffer.from('bob:x:1009:1009:B\xe9b \xe9l\xe8ve:/home/bob:/bin/sh\n', 'latin1');
    append(root, 'etc/passwd', line);
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--public');
    assert.ok(bytes(root, 'etc/passwd').includes(line), 'the latin1 line is there, byte for byte');
    kibOk(root, 'remove', 'web');
    assert.ok(bytes(root, 'etc/passwd').includes(line));
  } finally {
    cleanup(root);
  }
});

test('a duplicate group line is left alone; only the first gets kib members', () => {
  const root = rootFromFixture('clean');
  try {
    append(root, 'etc/group', 'kvm:x:105:carol\n');
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--public');
    const group = read(root, 'etc/group');
    assert.match(group, /^kvm:x:993:kib-web$/m);
    assert.match(group, /^kvm:x:105:carol$/m);
    kibOk(root, 'remove', 'web');
    assert.match(read(root, 'etc/group'), /^kvm:x:105:carol$/m);
  } finally {
    cleanup(root);
  }
});

test('a CRLF group file gets CRLF lines from kib', () => {
  const root = rootFromFixture('clean');
  try {
    writeFileSync(path.join(root, 'etc/group'), read(root, 'etc/group').replace(/\n/g, '\r\n'));
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--public');
    assert.not.match(read(root, 'etc/group'), /[^\r]\n/, 'every line ends in CRLF');
    assert.match(read(root, 'etc/group'), /^kib-web:x:30000:\r$/m);
  } finally {
    cleanup(root);
  }
});

test('the unit passes --append and --kernel to qemu literally: no systemd specifier or variable expands', () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, 'setup');
    kibOk(root, 'create', 'web', '--kernel', '/boot/k%t/vm$linuz', '--append', 'root=/dev/vda ${HOME} %h "quoted" back\\slash');
    const unit = read(root, 'etc/systemd/user/kib-web.service');
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='))!;
    assert.ok(exec.includes(' -kernel /boot/k%%t/vm$$linuz '), exec);
    assert.ok(exec.includes(' -append "root=/dev/vda $${HOME} %%h \\"quoted\\" back\\\\slash"'), exec);
    // kib's own sockets live in the runtime directory systemd expands.
    assert.ok(exec.includes('path=%t/kib-web/ttyS0.sock,server=on,wait=off'), exec);
    assert.is((exec.match(/(?<!%)%t/g) ?? []).length, 2, 'only the two socket paths use %t');
  } finally {
    cleanup(root);
  }
});

test('a VLAN upstream interface is written with a slash in sysctl keys', () => {
  const root = rootFromFixture('clean');
  try {
    writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), read(root, 'etc/kvm-in-a-box.cfg').replace('upstream-interface = eth0', 'upstream-interface = eth0.100'));
    kibOk(root, 'setup');
    assert.match(read(root, 'etc/sysctl.d/50-kib.conf'), /^net\.ipv6\.conf\.eth0\/100\.accept_ra = 2$/m);
    assert.match(read(root, 'etc/iptables/rules.v4'), /-o eth0\.100 -j MASQUERADE/);
  } finally {
    cleanup(root);
  }
});

test.run();
