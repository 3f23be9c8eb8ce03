// Address arithmetic for the networks kib hands out addresses from.
import { checksum } from './checksum.ts';

export interface Ipv4Net {
  /** The host's own address, as written in the config. */
  host: number;
  prefix: number;
  network: number;
  broadcast: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses 'A.B.C.D/P' with the host's address first; undefined if malformed. */
export function parseIpv4Cidr(text: string): Ipv4Net | undefined {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined || len === undefined || !/^\d{1,2}$/.test(len)) return undefined;
  const host = parseIpv4(addr);
  const prefix = Number(len);
  if (host === undefined || prefix < 8 || prefix > 30) return undefined;
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const network = (host & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  if (host === network || host === broadcast) return undefined;
  return { host, prefix, network, broadcast };
}

export function netmaskOf(prefix: number): string {
  return formatIpv4(prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
}

/** Addresses VMs may get: inside the net, not the network, broadcast or host address. */
export function isAssignable(net: Ipv4Net, ip: number): boolean {
  return ip > net.network && ip < net.broadcast && ip !== net.host;
}

/** Parses an IPv6 address into 8 16-bit groups; undefined if malformed. */
export function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.includes(':::')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/** Canonical text form (RFC 5952) of 8 groups. */
export function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export interface Ipv6Net {
  host: number[];
  prefix: number;
}

export function parseIpv6Cidr(text: string): Ipv6Net | undefined {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined || len === undefined || !/^\d{1,3}$/.test(len)) return undefined;
  const host = parseIpv6(addr);
  const prefix = Number(len);
  if (!host || prefix < 16 || prefix > 64) return undefined;
  return { host, prefix };
}

/** The /64 a SLAAC guest with this MAC gets inside net, and its EUI-64 address. */
export function slaacAddress(net: Ipv6Net, mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const iid = [((b[0] ^ 2) << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]];
  return formatIpv6([...prefixGroups(net.host, 64).slice(0, 4), ...iid]);
}

/** The first `bits` of an address, the rest zeroed. */
export function prefixGroups(groups: number[], bits: number): number[] {
  return groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 16 ? g : keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
}

/** A locally administered unicast MAC derived from a seed; 52:54:00 is qemu's prefix. */
export function macFromSeed(seed: string): string {
  const h = checksum(seed);
  return `52:54:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}
