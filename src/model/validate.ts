// Validators for the values users give kib: names, ports, keys, sizes. Each returns a
// message naming what is wrong, or undefined when the value is fine.
import { parseIpv4Cidr, parseIpv6Cidr } from './net.ts';

/**
 * A VM name becomes the user kib-NAME, the taps kpu-NAME / kpr-NAME (15 bytes at most),
 * the volumes NAME and NAME-DISK, a DNS label and file names; lowercase letters and
 * digits only, so none of these can be ambiguous, at most 11 characters.
 */
export const VM_NAME = /^[a-z][a-z0-9]{0,10}$/;
/** kib-admin is kib's own group; LVM reserves volume names starting with snapshot or pvmove. */
const RESERVED_NAME = /^(admin$|snapshot|pvmove)/;

export function checkVmName(name: string): string | undefined {
  if (!VM_NAME.test(name)) {
    return `invalid VM name '${printable(name)}': use 1-11 lowercase letters and digits, starting with a letter`;
  }
  if (RESERVED_NAME.test(name)) return `invalid VM name '${name}': the name is reserved`;
  return undefined;
}

/** A golden image: a plain file name in the images directory. */
export const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export function checkImageName(name: string): string | undefined {
  return IMAGE_NAME.test(name) && !name.includes('..') ? undefined : `invalid image name '${printable(name)}': a file name in the images directory`;
}

/** A volume group name LVM accepts (not '.' or '..'). */
export function checkVgName(name: string): string | undefined {
  return VG_NAME.test(name) && name !== '.' && name !== '..' ? undefined : `invalid volume group name '${printable(name)}'`;
}

/** A boot file (--kernel, --initrd): an absolute path qemu's option syntax cannot misread. */
export function checkBootPath(path: string): string | undefined {
  return path.startsWith('/') && !/[\0-\x1f,]/.test(path) ? undefined : `'${printable(path)}' is not an absolute path without commas or control characters`;
}

/** A kernel command line: one line, printable. */
export function checkAppend(cmdline: string): string | undefined {
  return /[\0-\x1f\x7f]/.test(cmdline) ? 'control characters are not allowed in a kernel command line' : undefined;
}

export const DISK_NAME = /^[a-z][a-z0-9]{0,15}$/;

export function checkDiskName(name: string): string | undefined {
  return DISK_NAME.test(name)
    ? undefined
    : `invalid disk name '${printable(name)}': use 1-16 lowercase letters and digits, starting with a letter`;
}

export const INTERFACE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;
export const VG_NAME = /^[a-zA-Z0-9+_.][a-zA-Z0-9+_.-]{0,126}$/;
export const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/**
 * An SSH public key: one line, a known type, base64 data whose embedded type matches,
 * and an optional comment. Options before the type are refused: kib writes its own.
 */
export function checkSshKey(key: string): string | undefined {
  if (/[\r\n\0]/.test(key)) return 'invalid SSH key: it must be a single line';
  const [type, data, ...comment] = key.trim().split(/\s+/);
  if (!KEY_TYPES.has(type)) return `invalid SSH key: unknown key type '${printable(type ?? '')}'`;
  if (!data || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return 'invalid SSH key: the key data is not base64';
  const raw = Buffer.from(data, 'base64');
  const len = raw.length >= 4 ? raw.readUInt32BE(0) : -1;
  if (len < 0 || raw.subarray(4, 4 + len).toString('latin1') !== type) {
    return `invalid SSH key: the key data does not hold a ${type} key`;
  }
  if (comment.some((c) => /[^\x20-\x7e]/.test(c))) return 'invalid SSH key: the comment has control characters';
  return undefined;
}

/** Normalizes a key to 'type data comment' with single spaces. */
export function normalizeSshKey(key: string): string {
  return key.trim().split(/\s+/).join(' ');
}

export interface Forward4 {
  proto: 'tcp' | 'udp';
  /** The port inside the VM. */
  internal: number;
  /** The port on the host's public address. */
  external: number;
}

export interface Open6 {
  proto: 'tcp' | 'udp';
  port: number;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

function parseProto(text: string): 'tcp' | 'udp' | undefined {
  return text === 'tcp' || text === 'udp' ? text : undefined;
}

/** Parses PROTO:IPORT:EPORT. */
export function parseForward4(text: string): Forward4 | string {
  const parts = text.split(':');
  const [proto, internal, external] = [parseProto(parts[0]), parsePort(parts[1] ?? ''), parsePort(parts[2] ?? '')];
  if (parts.length !== 3 || !proto || !internal || !external) {
    return `invalid --forward4 '${printable(text)}': expected PROTO:IPORT:EPORT with tcp or udp and ports 1-65535`;
  }
  return { proto, internal, external };
}

/** Parses PROTO:PORT. */
export function parseOpen6(text: string): Open6 | string {
  const parts = text.split(':');
  const [proto, port] = [parseProto(parts[0]), parsePort(parts[1] ?? '')];
  if (parts.length !== 2 || !proto || !port) {
    return `invalid --open6 '${printable(text)}': expected PROTO:PORT with tcp or udp and a port 1-65535`;
  }
  return { proto, port };
}

export function formatForward4(f: Forward4): string {
  return `${f.proto}:${f.internal}:${f.external}`;
}

export function formatOpen6(o: Open6): string {
  return `${o.proto}:${o.port}`;
}

/** Parses a memory size: plain numbers are MiB; K, M, G, T suffixes (binary). Returns MiB. */
export function parseMiB(text: string): number | undefined {
  const m = /^(\d+)([KMGT]i?B?)?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'M')[0].toUpperCase();
  const mib = unit === 'K' ? n / 1024 : unit === 'M' ? n : unit === 'G' ? n * 1024 : n * 1024 * 1024;
  return Number.isInteger(mib) && mib > 0 ? mib : undefined;
}

export function checkIpv4Cidr(text: string): string | undefined {
  return parseIpv4Cidr(text) ? undefined : `'${printable(text)}' is not an IPv4 address with a prefix length 8-30 (like 10.0.0.1/16)`;
}

export function checkIpv6Cidr(text: string): string | undefined {
  return parseIpv6Cidr(text) ? undefined : `'${printable(text)}' is not an IPv6 address with a prefix length 16-64 (like fd00::2/64)`;
}

/** A value quoted in an error: control characters escaped, long values cut. */
export function printable(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > 60 ? `${escaped.slice(0, 57)}...` : escaped;
}
