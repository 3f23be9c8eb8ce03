import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatIpv4,
  formatIpv6,
  isAssignable,
  macFromSeed,
  parseIpv4,
  parseIpv4Cidr,
  parseIpv6,
  parseIpv6Cidr,
  slaacAddress,
} from '../../src/model/net.ts';

const ip = (text: string) => {
  const n = parseIpv4(text);
  assert.ok(n !== undefined, text);
  return n!;
};

// --- IPv4 --------------------------------------------------------------------------------

test('parseIpv4/formatIpv4 round trip, including the top of the range', () => {
  for (const text of ['0.0.0.0', '10.0.0.1', '192.168.50.10', '255.255.255.255']) assert.is(formatIpv4(ip(text)), text);
  assert.is(ip('10.0.0.1'), 0x0a000001);
  assert.is(ip('255.255.255.255'), 0xffffffff, 'unsigned, not -1');
  for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', 'a.b.c.d', '', ' 1.2.3.4', '1.2.3.4/8']) {
    assert.is(parseIpv4(bad), undefined, bad);
  }
});

test('parseIpv4Cidr: host, network and broadcast', () => {
  assert.equal(parseIpv4Cidr('10.0.0.1/16'), { host: ip('10.0.0.1'), prefix: 16, network: ip('10.0.0.0'), broadcast: ip('10.0.255.255') });
  assert.equal(parseIpv4Cidr('192.168.7.9/29'), { host: ip('192.168.7.9'), prefix: 29, network: ip('192.168.7.8'), broadcast: ip('192.168.7.15') });
  assert.equal(parseIpv4Cidr('172.16.5.4/8'), { host: ip('172.16.5.4'), prefix: 8, network: ip('172.0.0.0'), broadcast: ip('172.255.255.255') });
  assert.equal(parseIpv4Cidr('203.0.113.2/30'), { host: ip('203.0.113.2'), prefix: 30, network: ip('203.0.113.0'), broadcast: ip('203.0.113.3') });
});

test('parseIpv4Cidr rejects a host that is the network or broadcast address', () => {
  for (const bad of ['10.0.0.0/16', '10.0.255.255/16', '192.168.7.8/29', '192.168.7.15/29', '203.0.113.3/30']) {
    assert.is(parseIpv4Cidr(bad), undefined, bad);
  }
});

test('parseIpv4Cidr rejects prefixes outside 8-30 and garbage', () => {
  for (const bad of ['10.0.0.1/7', '10.0.0.1/31', '10.0.0.1/32', '10.0.0.1/0', '10.0.0.1/', '10.0.0.1', '10.0.0.1/16/2',
    '10.0.0.1/-8', '10.0.0.1/1e1', '10.0.0.1/123', '300.0.0.1/16', 'host/16', '', '/16', 'fd00::1/64']) {
    assert.is(parseIpv4Cidr(bad), undefined, bad);
  }
  assert.ok(parseIpv4Cidr('10.0.0.1/8'));
  assert.ok(parseIpv4Cidr('10.0.0.1/30'));
});

test('isAssignable excludes network, broadcast and the host itself', () => {
  const net = parseIpv4Cidr('192.168.7.9/29')!;
  const assignable = [...Array(16).keys()].map((i) => ip(`192.168.7.${i}`)).filter((n) => isAssignable(net, n)).map(formatIpv4);
  assert.equal(assignable, ['192.168.7.10', '192.168.7.11', '192.168.7.12', '192.168.7.13', '192.168.7.14']);
});

// --- IPv6 --------------------------------------------------------------------------------

test('parseIpv6 expands :: and accepts full and mixed-case forms', () => {
  assert.equal(parseIpv6('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(parseIpv6('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(parseIpv6('1::'), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(parseIpv6('2001:db8::2'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);
  assert.equal(parseIpv6('2001:0DB8:0000:0000:0000:0000:0000:0002'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);
  assert.equal(parseIpv6('1:2:3:4:5:6:7::'), [1, 2, 3, 4, 5, 6, 7, 0]);
  assert.equal(parseIpv6('fe80::a:b'), [0xfe80, 0, 0, 0, 0, 0, 0xa, 0xb]);
});

test('parseIpv6 rejects malformed addresses', () => {
  for (const bad of ['', ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::',
    '12345::', 'g::1', '1:2:3:4:5:6:7:', ':1:2:3:4:5:6:7:8', '::ffff:1.2.3.4', ' ::1', 'fd00::1/64']) {
    assert.is(parseIpv6(bad), undefined, bad);
  }
});

test('formatIpv6 gives the RFC 5952 canonical form', () => {
  const canon = (text: string) => formatIpv6(parseIpv6(text)!);
  const cases: [string, string][] = [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['2001:0db8:0000:0000:0000:0000:0000:0002', '2001:db8::2'],
    // The longest zero run is compressed, not the first.
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    // Equal runs: the first one.
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    // A single zero group is not compressed.
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:DB8:AB:CD:EF:1:2:3', '2001:db8:ab:cd:ef:1:2:3'],
    ['fe80:0:0:0:0200:5eff:fe00:5301', 'fe80::200:5eff:fe00:5301'],
  ];
  for (const [input, expected] of cases) assert.is(canon(input), expected, input);
});

test('parseIpv6Cidr accepts /16-/64 only', () => {
  assert.equal(parseIpv6Cidr('2001:db8::2/64'), { host: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 2], prefix: 64 });
  assert.is(parseIpv6Cidr('fded:4154:dde6::2/48')?.prefix, 48);
  for (const bad of ['2001:db8::2/65', '2001:db8::2/15', '2001:db8::2/128', '2001:db8::2', '2001:db8::2/64/1', 'x/64']) {
    assert.is(parseIpv6Cidr(bad), undefined, bad);
  }
});

// --- SLAAC and MACs ----------------------------------------------------------------------

test('slaacAddress: EUI-64 from the MAC with the U/L bit flipped, inside the /64', () => {
  const net = parseIpv6Cidr('2001:db8::2/64')!;
  assert.is(slaacAddress(net, '52:54:00:4b:5e:57'), '2001:db8::5054:ff:fe4b:5e57');
  // A universally administered MAC gets the bit set (00 -> 02).
  assert.is(slaacAddress(net, '00:1a:2b:3c:4d:5e'), '2001:db8::21a:2bff:fe3c:4d5e');
  // Host bits of the configured address never leak into the prefix.
  const wide = parseIpv6Cidr('fd13:5b76:af07:1234:aaaa:bbbb:cccc:dddd/48')!;
  assert.is(slaacAddress(wide, '52:54:00:00:00:01'), 'fd13:5b76:af07:1234:5054:ff:fe00:1');
});

test('macFromSeed: a deterministic, locally administered unicast MAC', () => {
  const seen = new Set<string>();
  for (const seed of ['web', 'db', 'ci', 'web/1', 'a'.repeat(11), '52:54:00:12:34:56/private']) {
    const mac = macFromSeed(seed);
    assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const first = parseInt(mac.slice(0, 2), 16);
    assert.ok(first & 2, `${mac}: locally administered`);
    assert.not.ok(first & 1, `${mac}: unicast`);
    assert.is(macFromSeed(seed), mac, 'deterministic');
    seen.add(mac);
  }
  assert.is(seen.size, 6, 'different seeds give different MACs');
});

test.run();
