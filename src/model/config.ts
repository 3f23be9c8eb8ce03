// The host configuration, /etc/kvm-in-a-box.cfg: `key = value` lines read with `ini` and
// validated with zod. Errors name the key and its line.
import { readFile } from 'node:fs/promises';
import ini from 'ini';
import { z } from 'zod';
import { KibError } from '../errors.ts';
import { HOST, rooted } from '../paths.ts';
import { splitWords } from '../formats/words.ts';
import { parseIpv4Cidr, parseIpv6Cidr, prefixGroups, type Ipv4Net, type Ipv6Net } from './net.ts';
import {
  checkIpv4Cidr,
  checkIpv6Cidr,
  checkSshKey,
  DOMAIN_NAME,
  INTERFACE_NAME,
  normalizeSshKey,
  parseMiB,
  VG_NAME,
} from './validate.ts';

const refineWith = (check: (v: string) => string | undefined) => (v: string, ctx: z.RefinementCtx) => {
  const problem = check(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

const range = (lo: number, hi: number) =>
  z
    .string()
    .regex(/^\d+-\d+$/, 'expected FIRST-LAST')
    .transform((v) => v.split('-').map(Number) as [number, number])
    .refine(([a, b]) => a <= b && a >= lo && b <= hi, `expected FIRST-LAST within ${lo}-${hi}, FIRST <= LAST`);

/** Directories the system uses for itself: never kib's disk or image directory. */
const SYSTEM_DIRS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/lib', '/var/tmp', '/var/lib/kib']);

/** A directory of kib's own: absolute, normalized (no . or .. parts), not a system directory. */
const kibDirectory = z
  .string()
  .regex(/^(\/[A-Za-z0-9_.+-]+)+$/, 'not an absolute path of plain names')
  .refine((v) => !v.split('/').some((part) => part === '.' || part === '..'), 'must not contain . or ..')
  .refine((v) => !SYSTEM_DIRS.has(v), 'a system directory cannot hold kib\'s files');

const ConfigSchema = z
  .object({
    domain: z.string().regex(DOMAIN_NAME, 'not a DNS domain name'),
    'upstream-interface': z.string().regex(INTERFACE_NAME, 'not a network interface name'),
    'public-address': z.string().superRefine(refineWith(checkIpv4Cidr)),
    'public-address6': z.string().superRefine(refineWith(checkIpv6Cidr)).optional(),
    'private-address6': z.string().superRefine(refineWith(checkIpv6Cidr)).optional(),
    'group-address6': z
      .string()
      .superRefine(refineWith(checkIpv6Cidr))
      .refine((v) => (parseIpv6Cidr(v)?.prefix ?? 0) <= 48, 'the group prefix must be /48 or shorter')
      .optional(),
    'default-volume-group': z.string().regex(VG_NAME, 'not a volume group name').optional(),
    'backdoor-ssh-key': z.string().superRefine(refineWith(checkSshKey)).optional(),
    accel: z.enum(['kvm', 'tcg']).default('kvm'),
    'uid-range': range(1000, 59999).prefault('30000-39999'),
    'display-ports': range(1024, 65535).prefault('5900-5999'),
    'lvm-args': z.string().default(''),
    'lvcreate-args': z.string().default(''),
    storage: z.enum(['lvm', 'image', 'none']).optional(),
    'disk-directory': kibDirectory.default('/var/lib/kib/disks'),
    'image-directory': kibDirectory.default('/var/lib/kib/images'),
    'iso-directory': kibDirectory.default('/var/lib/kib/iso'),
    'installer-iso': z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}\.iso$/, 'not a plain file name ending in .iso')
      .optional(),
    'default-disk-size': z
      .string()
      .refine((v) => parseMiB(v) !== undefined, 'not a size like 10G')
      .default('10G'),
  })
  .strict();

/** The validated host configuration, with addresses parsed. */
export interface HostConfig {
  domain: string;
  upstream: string;
  public4: Ipv4Net;
  public4Text: string;
  public6?: Ipv6Net;
  private6?: Ipv6Net;
  group6?: Ipv6Net;
  defaultVg?: string;
  backdoorKey?: string;
  accel: 'kvm' | 'tcg';
  uidRange: [number, number];
  displayPorts: [number, number];
  lvmArgs: string[];
  lvcreateArgs: string[];
  /** Where a VM's disks live unless it says otherwise: LVM with a default VG, else image files. */
  storage: 'lvm' | 'image' | 'none';
  diskDir: string;
  imageDir: string;
  /** The ISO library root fills: installer ISOs (and media owners may attach). */
  isoDir: string;
  /** The Debian installer ISO in isoDir; unset: the newest debian-*-amd64-*.iso there. */
  installerIso?: string;
  defaultDiskMiB: number;
  text: Record<string, string | undefined>;
}

/** Reads and validates the config under root. */
export async function loadConfig(root: string): Promise<HostConfig> {
  const file = rooted(root, HOST.config);
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KibError('config', `${HOST.config} does not exist: write it first (see kib(8), CONFIGURATION)`);
    }
    throw new KibError('config', `${HOST.config}: ${(error as Error).message}`);
  }
  return parseConfig(content);
}

/** Validates config text; the error names the first bad key and its line. */
export function parseConfig(content: string): HostConfig {
  const duplicate = duplicateKey(content);
  if (duplicate) {
    throw new KibError('config', `${HOST.config}:${duplicate.line}: '${duplicate.key}' is given twice (first on line ${duplicate.first})`);
  }
  const raw = ini.parse(content) as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    // ini reads true, false and null as such; kib's values are all text.
    if (typeof value === 'boolean' || value === null) raw[key] = String(value);
    else if (typeof value !== 'string') {
      throw new KibError('config', `${HOST.config}${lineOf(content, key)}: '${key}' must be a plain 'key = value' line`);
    }
  }
  // A misspelt key is the likely cause of a missing one: name it first.
  const unknown = Object.keys(raw).find((key) => !(key in ConfigSchema.shape));
  if (unknown) throw new KibError('config', `${HOST.config}${lineOf(content, unknown)}: unknown key '${unknown}'`);
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue.path[0] ?? '');
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown key '${issue.keys[0]}'`
        : issue.code === 'invalid_type' && raw[key] === undefined
          ? `'${key}' is required`
          : `'${key}': ${issue.message}`;
    const at = issue.code === 'unrecognized_keys' ? issue.keys[0] : key;
    throw new KibError('config', `${HOST.config}${lineOf(content, at)}: ${message}`);
  }
  const c = result.data;
  checkDistinctNets(content, c);
  if (c['disk-directory'] === c['image-directory']) {
    throw new KibError('config', `${HOST.config}${lineOf(content, 'image-directory')}: 'image-directory' must differ from 'disk-directory'`);
  }
  if (c['iso-directory'] === c['disk-directory']) {
    throw new KibError('config', `${HOST.config}${lineOf(content, 'iso-directory')}: 'iso-directory' must differ from 'disk-directory'`);
  }
  return {
    domain: c.domain,
    upstream: c['upstream-interface'],
    public4: parseIpv4Cidr(c['public-address'])!,
    public4Text: c['public-address'],
    public6: c['public-address6'] ? parseIpv6Cidr(c['public-address6']) : undefined,
    private6: c['private-address6'] ? parseIpv6Cidr(c['private-address6']) : undefined,
    group6: c['group-address6'] ? parseIpv6Cidr(c['group-address6']) : undefined,
    defaultVg: c['default-volume-group'],
    backdoorKey: c['backdoor-ssh-key'] ? normalizeSshKey(c['backdoor-ssh-key']) : undefined,
    accel: c.accel,
    uidRange: c['uid-range'],
    displayPorts: c['display-ports'],
    lvmArgs: splitWords(c['lvm-args']),
    lvcreateArgs: splitWords(c['lvcreate-args']),
    storage: c.storage ?? (c['default-volume-group'] ? 'lvm' : 'image'),
    diskDir: c['disk-directory'],
    imageDir: c['image-directory'],
    isoDir: c['iso-directory'],
    installerIso: c['installer-iso'],
    defaultDiskMiB: parseMiB(c['default-disk-size'])!,
    text: {
      public6: c['public-address6'],
      private6: c['private-address6'],
      group6: c['group-address6'],
    },
  };
}

/** The public, private and group IPv6 networks must not overlap: each is its own bridge. */
function checkDistinctNets(content: string, c: Partial<Record<'public-address6' | 'private-address6' | 'group-address6', string>>): void {
  const nets = (['public-address6', 'private-address6', 'group-address6'] as const)
    .filter((key) => c[key])
    .map((key) => ({ key, net: parseIpv6Cidr(c[key]!)! }));
  for (let i = 0; i < nets.length; i++) {
    for (let j = i + 1; j < nets.length; j++) {
      const bits = Math.min(nets[i].net.prefix, nets[j].net.prefix);
      if (prefixGroups(nets[i].net.host, bits).join() === prefixGroups(nets[j].net.host, bits).join()) {
        throw new KibError('config', `${HOST.config}${lineOf(content, nets[j].key)}: '${nets[j].key}' overlaps '${nets[i].key}'`);
      }
    }
  }
}

/** The first key that appears on two lines, with both line numbers. */
function duplicateKey(content: string): { key: string; first: number; line: number } | undefined {
  const seen = new Map<string, number>();
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';') || !t.includes('=')) continue;
    const key = t.split('=')[0].trim();
    const first = seen.get(key);
    if (first !== undefined) return { key, first, line: i + 1 };
    seen.set(key, i + 1);
  }
  return undefined;
}

function lineOf(content: string, key: string): string {
  const i = content.split('\n').findIndex((l) => l.trim().split(/\s*=/)[0] === key);
  return i === -1 ? '' : `:${i + 1}`;
}
