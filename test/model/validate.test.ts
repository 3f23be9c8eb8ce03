import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkDiskName,
  checkSshKey,
  checkVmName,
  formatForward4,
  formatOpen6,
  normalizeSshKey,
  parseForward4,
  parseMiB,
  parseOpen6,
} from '../../src/model/validate.ts';
import { KEY1, KEY2 } from '../helpers.ts';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQdQvclJHzfvJH650Nngv6v2MZ+rNZ4rUeJx3i3MCrA demo@foobar';
const [, ED25519_DATA] = ED25519.split(' ');
/** A base64 blob that starts with the given length-prefixed type name. */
const blob = (type: string, rest = 'x'.repeat(32)) => {
  const name = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(name.length);
  return Buffer.concat([len, name, Buffer.from(rest)]).toString('base64');
};

// --- VM names ----------------------------------------------------------------------------

test('checkVmName accepts 1-11 lowercase letters and digits starting with a letter', () => {
  for (const good of ['a', 'web', 'db1', 'abcdefghijk', 'x0123456789']) assert.is(checkVmName(good), undefined, good);
});

test('checkVmName rejects bad names with a message quoting the name', () => {
  const bad: [string, RegExp][] = [
    ['abcdefghijkl', /1-11/], // 12 characters
    ['Web', /lowercase/],
    ['my-vm', /invalid VM name 'my-vm'/],
    ['my_vm', /invalid VM name/],
    ['1vm', /starting with a letter/],
    ['', /invalid VM name ''/],
    ['wéb', /invalid VM name/],
    ['vm\n', /invalid VM name 'vm\\n'/], // control characters are escaped in the message
    ['vm ', /invalid VM name/],
    ['admin', /reserved/],
    ['snapshot', /reserved/],
    ['pvmove', /reserved/],
  ];
  for (const [name, message] of bad) {
    const problem = checkVmName(name);
    assert.ok(problem, JSON.stringify(name));
    assert.match(problem!, message, JSON.stringify(name));
  }
});

test('checkDiskName allows up to 16 characters', () => {
  assert.is(checkDiskName('data'), undefined);
  assert.is(checkDiskName('a'.repeat(16)), undefined);
  assert.ok(checkDiskName('a'.repeat(17)));
  assert.ok(checkDiskName('data-1'));
});

// --- SSH keys ----------------------------------------------------------------------------

test('checkSshKey accepts valid keys, with or without a comment', () => {
  for (const key of [ED25519, KEY1, KEY2, `ssh-ed25519 ${ED25519_DATA}`, `  ${ED25519}  `, ED25519.replace(' demo', '\tdemo'),
    `ssh-ed25519 ${ED25519_DATA} two word comment`, `ssh-rsa ${blob('ssh-rsa')}`, `ecdsa-sha2-nistp256 ${blob('ecdsa-sha2-nistp256')} me@host`]) {
    assert.is(checkSshKey(key), undefined, key);
  }
});

test('checkSshKey rejects bad keys, saying why', () => {
  const bad: [string, RegExp][] = [
    [`${ED25519}\nssh-ed25519 ${ED25519_DATA} second`, /single line/],
    [`${ED25519}\r`, /single line/],
    [`ssh-ed25519 ${ED25519_DATA}\0`, /single line/],
    [`ssh-dss ${ED25519_DATA} me`, /unknown key type 'ssh-dss'/],
    ['', /unknown key type/],
    [`command="x" ${ED25519}`, /unknown key type 'command=\\"x\\"'/],
    [`no-pty,from="10.0.0.1" ${ED25519}`, /unknown key type/],
    ['ssh-ed25519', /not base64/],
    ['ssh-ed25519 AAAA!!!!', /not base64/],
    ['ssh-ed25519 AAAAC3Nz=aC1l', /not base64/],
    [`ssh-rsa ${ED25519_DATA} me`, /does not hold a ssh-rsa key/],
    [`ecdsa-sha2-nistp256 ${ED25519_DATA}`, /does not hold a ecdsa-sha2-nistp256 key/],
    ['ssh-ed25519 AAAA', /does not hold/], // length 0, no type name
    ['ssh-ed25519 AAE=', /does not hold/], // shorter than the length field
    [`ssh-ed25519 ${blob('ssh-ed25519x')}`, /does not hold/],
    [`ssh-ed25519 ${ED25519_DATA} caf\x07e`, /control characters/],
  ];
  for (const [key, message] of bad) {
    const problem = checkSshKey(key);
    assert.ok(problem, JSON.stringify(key));
    assert.match(problem!, message, JSON.stringify(key));
  }
});

test('normalizeSshKey collapses whitespace', () => {
  assert.is(normalizeSshKey(`  ssh-ed25519\t${ED25519_DATA}   demo@foobar \n`), ED25519);
});

// --- ports -------------------------------------------------------------------------------

test('parseForward4 parses PROTO:IPORT:EPORT', () => {
  assert.equal(parseForward4('tcp:80:8080'), { proto: 'tcp', internal: 80, external: 8080 });
  assert.equal(parseForward4('udp:1:65535'), { proto: 'udp', internal: 1, external: 65535 });
  assert.is(formatForward4({ proto: 'tcp', internal: 443, external: 8443 }), 'tcp:443:8443');
});

test('parseForward4 rejects bad ports, protocols and shapes', () => {
  for (const bad of ['tcp:0:80', 'tcp:80:0', 'tcp:65536:80', 'tcp:80:65536', 'tcp:http:80', 'tcp:80', 'tcp', '', 'tcp:80:8080:1',
    'sctp:80:8080', 'TCP:80:8080', ':80:8080', 'tcp::8080', 'tcp:-1:80', 'tcp: 80:8080', 'tcp:8.0:80', 'tcp:0x50:80', 'tcp:000080:80']) {
    const r = parseForward4(bad);
    assert.type(r, 'string', bad);
    assert.match(r as string, /invalid --forward4/);
  }
});

test('parseOpen6 parses PROTO:PORT and rejects the rest', () => {
  assert.equal(parseOpen6('tcp:22'), { proto: 'tcp', port: 22 });
  assert.equal(parseOpen6('udp:65535'), { proto: 'udp', port: 65535 });
  assert.is(formatOpen6({ proto: 'udp', port: 53 }), 'udp:53');
  for (const bad of ['tcp:0', 'tcp:65536', 'tcp:ssh', 'tcp', ':22', 'tcp:', 'tcp:22:1', 'sctp:22', 'icmp:1', '']) {
    const r = parseOpen6(bad);
    assert.type(r, 'string', bad);
    assert.match(r as string, /invalid --open6/);
  }
});

// --- memory sizes ------------------------------------------------------------------------

test('parseMiB: plain numbers are MiB, K/M/G/T binary suffixes', () => {
  const cases: [string, number][] = [
    ['512', 512],
    ['1G', 1024],
    ['1g', 1024],
    ['2048M', 2048],
    ['1024K', 1],
    ['2GiB', 2048],
    ['4GB', 4096],
    ['1T', 1024 * 1024],
    [' 256 ', 256],
  ];
  for (const [text, mib] of cases) assert.is(parseMiB(text), mib, text);
});

test('parseMiB rejects fractions, zero, sub-MiB sizes and garbage', () => {
  for (const bad of ['1.5G', '0', '0G', '1000K', '512K', '-1', 'G', '', '1X', '1 G', '1e3', 'one']) {
    assert.is(parseMiB(bad), undefined, bad);
  }
});

test.run();
