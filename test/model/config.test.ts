import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KibError } from '../../src/errors.ts';
import { parseConfig, type HostConfig } from '../../src/model/config.ts';
import { parseIpv4 } from '../../src/model/net.ts';
import { CONFIG, KEY1 } from '../helpers.ts';

/** The README's example, every key set, inline comments included. */
const FULL = `# kib host configuration
domain = kvm-box.example.net
upstream-interface = eth0
public-address = 10.0.0.1/16           # public bridge kpu; host address first
public-address6 = 2001:db8::2/64       # optional
private-address6 = fd13:5b76:af07::2/64
group-address6 = fded:4154:dde6::2/48
default-volume-group = vg0
backdoor-ssh-key = ${KEY1.replace(' ', '   ')}
accel = tcg
uid-range = 40000-40999
display-ports = 6000-6099
lvm-args = --config  'devices/filter=["a|.*|"]'
`;

/** Expects parseConfig to throw a 'config' KibError; returns its message. */
function configError(text: string): string {
  try {
    parseConfig(text);
  } catch (error) {
    assert.instance(error, KibError);
    assert.is((error as KibError).code, 'config');
    return (error as KibError).message;
  }
  assert.unreachable(`parsed without error:\n${text}`);
  return '';
}

const MINIMAL = 'domain = example.org\nupstream-interface = eth0\npublic-address = 192.168.10.1/24\n';

test('a full valid config parses, addresses parsed', () => {
  const c: HostConfig = parseConfig(FULL);
  assert.is(c.domain, 'kvm-box.example.net');
  assert.is(c.upstream, 'eth0');
  assert.equal(c.public4, { host: parseIpv4('10.0.0.1'), prefix: 16, network: parseIpv4('10.0.0.0'), broadcast: parseIpv4('10.0.255.255') });
  assert.is(c.public4.host, 0x0a000001);
  assert.is(c.public4.broadcast, 0x0a00ffff);
  assert.is(c.public4Text, '10.0.0.1/16');
  assert.equal(c.public6, { host: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 2], prefix: 64 });
  assert.is(c.private6?.prefix, 64);
  assert.equal(c.group6, { host: [0xfded, 0x4154, 0xdde6, 0, 0, 0, 0, 2], prefix: 48 });
  assert.is(c.defaultVg, 'vg0');
  assert.is(c.backdoorKey, KEY1, 'the key is normalized');
  assert.is(c.accel, 'tcg');
  assert.equal(c.uidRange, [40000, 40999]);
  assert.equal(c.displayPorts, [6000, 6099]);
  assert.equal(c.lvmArgs, ['--config', 'devices/filter=["a|.*|"]']);
  assert.equal(c.text, { public6: '2001:db8::2/64', private6: 'fd13:5b76:af07::2/64', group6: 'fded:4154:dde6::2/48' });
});

test('defaults: accel kvm, uid-range 30000-39999, display-ports 5900-5999, no optional networks', () => {
  const c = parseConfig(MINIMAL);
  assert.is(c.accel, 'kvm');
  assert.equal(c.uidRange, [30000, 39999]);
  assert.equal(c.displayPorts, [5900, 5999]);
  assert.equal(c.lvmArgs, []);
  assert.is(c.public6, undefined);
  assert.is(c.private6, undefined);
  assert.is(c.group6, undefined);
  assert.is(c.defaultVg, undefined);
  assert.is(c.backdoorKey, undefined);
  assert.is(c.isoDir, '/var/lib/kib/iso');
  assert.is(c.installerIso, undefined);
  assert.is(parseConfig(CONFIG).public4.prefix, 16, 'the shared test config is valid');
});

test('an unknown key names the key and its line', () => {
  const message = configError(`${MINIMAL.split('\n').slice(0, 2).join('\n')}\nbogus-key = 1\npublic-address = 10.0.0.1/16\n`);
  assert.match(message, /unknown key 'bogus-key'/);
  assert.match(message, /kvm-in-a-box\.cfg:3:/);
});

test('a missing required key is named', () => {
  const message = configError('upstream-interface = eth0\npublic-address = 10.0.0.1/16\n');
  assert.match(message, /'domain' is required/);
  assert.match(configError('domain = a.example\npublic-address = 10.0.0.1/16\n'), /'upstream-interface' is required/);
  assert.match(configError('domain = a.example\nupstream-interface = eth0\n'), /'public-address' is required/);
});

test('bad values name the key and the line', () => {
  const bad: [string, string, RegExp][] = [
    ['public-address', '10.0.0.0/16', /'public-address'.*not an IPv4 address/],
    ['public-address', '10.0.0.1/31', /'public-address'/],
    ['public-address', 'eth0', /'public-address'/],
    ['uid-range', '5-1', /'uid-range'.*FIRST <= LAST/],
    ['uid-range', '39999-30000', /'uid-range'/],
    ['uid-range', '100-200', /'uid-range'.*within 1000-59999/],
    ['uid-range', '30000', /'uid-range'.*FIRST-LAST/],
    ['display-ports', '80-90', /'display-ports'/],
    ['group-address6', 'fded:4154:dde6::2/64', /'group-address6'.*\/48 or shorter/],
    ['public-address6', '2001:db8::2/128', /'public-address6'.*IPv6/],
    ['private-address6', 'not-an-address/64', /'private-address6'/],
    ['accel', 'xen', /'accel'/],
    ['domain', 'bad_domain!', /'domain'.*DNS domain/],
    ['upstream-interface', 'eth0 eth1', /'upstream-interface'/],
    ['backdoor-ssh-key', 'ssh-rsa AAAA', /'backdoor-ssh-key'.*SSH key/],
    ['default-volume-group', '-vg', /'default-volume-group'/],
    ['iso-directory', 'isos', /'iso-directory'.*absolute path/],
    ['iso-directory', '/var/lib/kib/disks', /'iso-directory' must differ from 'disk-directory'/],
    ['installer-iso', '../debian.iso', /'installer-iso'.*plain file name/],
    ['installer-iso', 'debian.img', /'installer-iso'.*\.iso/],
  ];
  const required: Record<string, string> = { domain: 'example.org', 'upstream-interface': 'eth0', 'public-address': '192.168.10.1/24' };
  for (const [key, value, message] of bad) {
    // A comment, a blank line and one good key come first: the bad key is on line 4.
    const others = Object.entries(required).filter(([k]) => k !== key).map(([k, v]) => `${k} = ${v}`);
    const text = ['# host', '', others[0], `${key} = ${value}`, ...others.slice(1), ''].join('\n');
    const error = configError(text);
    assert.match(error, message, `${key} = ${value}: ${error}`);
    assert.match(error, /kvm-in-a-box\.cfg:4:/, `${key} = ${value}: ${error}`);
  }
});

test('a section or array key is refused as not a plain key = value line', () => {
  assert.match(configError(`${MINIMAL}[extra]\nfoo = bar\n`), /'extra' must be a plain 'key = value' line/);
  assert.match(configError(`${MINIMAL}lvm-args[] = -v\n`), /lvm-args.*plain/);
});

test('a key given twice is an error naming both lines', () => {
  const message = configError(`${MINIMAL}accel = kvm\naccel = xen\n`);
  assert.match(message, /'accel' is given twice/);
  assert.match(message, /kvm-in-a-box\.cfg:5:/);
  assert.match(message, /first on line 4/);
});

test('true, false and null are text like any value', () => {
  assert.match(configError(`${MINIMAL}accel = true\n`), /'accel'/);
  assert.not.match(configError(`${MINIMAL}accel = true\n`), /plain/);
});

test('the ISO library and the installer ISO', () => {
  const c = parseConfig(`${MINIMAL}iso-directory = /srv/iso\ninstaller-iso = debian-13.1.0-amd64-netinst.iso\n`);
  assert.is(c.isoDir, '/srv/iso');
  assert.is(c.installerIso, 'debian-13.1.0-amd64-netinst.iso');
});

test('lvm-args keeps quoted words together', () => {
  const c = parseConfig(`${MINIMAL}lvm-args = --driverloaded n --config "devices { filter = [ \\"a|.*|\\" ] }"\n`);
  assert.equal(c.lvmArgs, ['--driverloaded', 'n', '--config', 'devices { filter = [ "a|.*|" ] }']);
});

test.run();
