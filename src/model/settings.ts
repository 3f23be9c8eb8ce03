// VM flags from create and change, validated as a whole before anything is written.
// `change` applies only the flags that were given.
import os from 'node:os';
import { KibError } from '../errors.ts';
import type { State } from './state.ts';
import {
  checkDiskName,
  checkSshKey,
  normalizeSshKey,
  parseForward4,
  parseMiB,
  parseOpen6,
  printable,
  formatForward4,
  formatOpen6,
  checkVgName,
  checkBootPath,
  checkAppend,
  checkImageName,
} from './validate.ts';
import { DRIVE_DEVICES, IMAGE_FORMATS, MAX_GROUPS, STORAGES, type Disk, type VmSettings } from './vm.ts';

/** Flags as the CLI hands them over: undefined when not given. */
export interface VmFlags {
  cpus?: string | number;
  mem?: string;
  arch?: string;
  driveDevice?: string;
  accel?: string;
  vg?: string | false;
  storage?: string;
  diskSize?: string;
  imageFormat?: string;
  base?: string | false;
  addDisk?: string[] | false;
  sshKey?: string[] | false;
  user?: boolean;
  public?: boolean;
  private?: boolean;
  netGroup?: (string | number)[] | false;
  forward4?: string[] | false;
  open6?: string[] | false;
  kernel?: string | false;
  initrd?: string | false;
  append?: string | false;
}

const list = <T>(v: T[] | false | undefined): T[] | undefined => (v === false ? [] : v);

/** Applies the given flags to settings; collects every problem into one error. */
export function applyFlags(base: VmSettings, flags: VmFlags): VmSettings {
  const problems: string[] = [];
  const s: VmSettings = structuredClone(base);
  const fail = (message: string) => problems.push(message);

  if (flags.cpus !== undefined) {
    const max = os.availableParallelism();
    const cpus = /^\d{1,4}$/.test(String(flags.cpus)) ? Number(flags.cpus) : NaN;
    if (!(cpus >= 1 && cpus <= max)) fail(`invalid --cpus '${printable(String(flags.cpus))}': expected 1-${max} (this host's CPUs)`);
    else s.cpus = cpus;
  }
  if (flags.mem !== undefined) {
    const mib = parseMiB(String(flags.mem));
    const max = Math.floor(os.totalmem() / 1024 / 1024);
    if (mib === undefined || mib < 16 || mib > max) fail(`invalid --mem '${printable(String(flags.mem))}': expected 16M up to ${max}M (this host's memory), like 1024 or 2G`);
    else s.memMiB = mib;
  }
  if (flags.arch !== undefined) {
    if (flags.arch !== 'x86_64') fail(`invalid --arch '${printable(flags.arch)}': only x86_64 is supported`);
  }
  if (flags.driveDevice !== undefined) {
    if (!(DRIVE_DEVICES as readonly string[]).includes(flags.driveDevice)) fail(`invalid --drive-device '${printable(flags.driveDevice)}': expected one of ${DRIVE_DEVICES.join(', ')}`);
    else s.driveDevice = flags.driveDevice as VmSettings['driveDevice'];
  }
  if (flags.accel !== undefined) {
    if (!['kvm', 'tcg', 'default'].includes(flags.accel)) fail(`invalid --accel '${printable(flags.accel)}': expected kvm, tcg or default`);
    else s.accel = flags.accel === 'default' ? null : (flags.accel as 'kvm' | 'tcg');
  }
  if (flags.vg !== undefined) {
    if (flags.vg !== false && checkVgName(flags.vg)) fail(`invalid --vg '${printable(flags.vg)}': not a volume group name`);
    else s.vg = flags.vg === false ? null : flags.vg;
  }
  if (flags.storage !== undefined) {
    if (!(STORAGES as readonly string[]).includes(flags.storage)) fail(`invalid --storage '${printable(flags.storage)}': expected lvm, image or none`);
    else s.storage = flags.storage as VmSettings['storage'];
  }
  if (flags.diskSize !== undefined) {
    const mib = parseMiB(String(flags.diskSize));
    if (mib === undefined || mib > MAX_DISK_MIB) fail(`invalid --disk-size '${printable(String(flags.diskSize))}': expected a size like 20G, at most 64T`);
    else s.diskMiB = mib;
  }
  if (flags.imageFormat !== undefined) {
    if (!(IMAGE_FORMATS as readonly string[]).includes(flags.imageFormat)) fail(`invalid --image-format '${printable(flags.imageFormat)}': expected qcow2 or raw`);
    else s.imageFormat = flags.imageFormat as VmSettings['imageFormat'];
  }
  if (flags.base !== undefined) {
    const problem = flags.base === false ? undefined : checkImageName(flags.base);
    if (problem) fail(`invalid --base: ${problem}`);
    else s.base = flags.base === false ? null : flags.base;
  }
  const disks = list(flags.addDisk);
  if (disks) {
    const parsed = disks.map((d) => parseDisk(String(d), s.diskMiB));
    const problem = parsed.find((p) => typeof p === 'string');
    if (problem) fail(problem as string);
    else if (new Set(parsed.map((d) => (d as Disk).name)).size !== parsed.length) fail('--add-disk names a disk twice');
    else s.disks = parsed as Disk[];
  }
  const keys = list(flags.sshKey);
  if (keys) {
    const problem = keys.map((k) => checkSshKey(String(k))).find(Boolean);
    if (problem) fail(problem);
    else s.sshKeys = [...new Set(keys.map((k) => normalizeSshKey(String(k))))];
  }
  if (flags.user !== undefined) s.net.user = flags.user;
  if (flags.public !== undefined) s.net.public = flags.public;
  if (flags.private !== undefined) s.net.private = flags.private;
  const groups = list(flags.netGroup);
  if (groups) {
    const ids = groups.map((g) => String(g));
    const bad = ids.find((g) => !/^\d{1,4}$/.test(g) || Number(g) < 1);
    if (bad !== undefined) fail(`invalid --net-group '${printable(bad)}': expected a number 1-9999`);
    else if (new Set(ids).size > MAX_GROUPS) fail(`too many --net-group: a VM can be in at most ${MAX_GROUPS} groups`);
    else s.net.groups = [...new Set(ids.map(Number))];
  }
  const forwards = list(flags.forward4);
  if (forwards) {
    const parsed = forwards.map((f) => parseForward4(String(f)));
    const problem = parsed.find((p) => typeof p === 'string');
    if (problem) fail(problem as string);
    else s.forward4 = dedupe(parsed as VmSettings['forward4'], formatForward4);
  }
  const opens = list(flags.open6);
  if (opens) {
    const parsed = opens.map((o) => parseOpen6(String(o)));
    const problem = parsed.find((p) => typeof p === 'string');
    if (problem) fail(problem as string);
    else s.open6 = dedupe(parsed as VmSettings['open6'], formatOpen6);
  }
  for (const key of ['kernel', 'initrd'] as const) {
    const v = flags[key];
    if (v === undefined) continue;
    const problem = v === false ? undefined : checkBootPath(v);
    if (problem) fail(`invalid --${key}: ${problem}`);
    else s.boot[key] = v === false ? null : v;
  }
  if (flags.append !== undefined) {
    const problem = flags.append === false ? undefined : checkAppend(flags.append);
    if (problem) fail(`invalid --append: ${problem}`);
    else s.boot.append = flags.append === false ? null : flags.append;
  }
  if (problems.length > 0) throw new KibError('usage', problems.join('; '));
  return s;
}

/** qcow2's limit, and far beyond any disk of a box like this. */
const MAX_DISK_MIB = 64 * 1024 * 1024;

/** Parses --add-disk NAME[:SIZE]; without a size the disk is as large as the main one. */
function parseDisk(text: string, defaultMiB: number): Disk | string {
  const [name, size, extra] = text.split(':');
  const problem = checkDiskName(name);
  if (problem || extra !== undefined) return problem ?? `invalid --add-disk '${printable(text)}': expected NAME[:SIZE]`;
  if (size === undefined) return { name, sizeMiB: defaultMiB };
  const mib = parseMiB(size);
  return mib === undefined || mib > MAX_DISK_MIB ? `invalid --add-disk '${printable(text)}': '${printable(size)}' is not a size like 20G, at most 64T` : { name, sizeMiB: mib };
}

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => (seen.has(key(t)) ? false : (seen.add(key(t)), true)));
}

/** Rules that span settings or VMs: forwards need the public network, and a host port goes to one VM only. */
export function checkSettings(name: string, s: VmSettings, state: State): void {
  if ((s.forward4.length > 0 || s.open6.length > 0) && !s.net.public) {
    throw new KibError('usage', `VM ${name}: --forward4 and --open6 need the public network (--public)`);
  }
  const external = s.forward4.map((f) => `${f.proto}/${f.external}`);
  const twice = external.find((e, i) => external.indexOf(e) !== i);
  if (twice) throw new KibError('usage', `VM ${name}: host port ${twice} is forwarded twice`);
  // A forward takes the host port on the upstream interface: the host's own SSH would be gone.
  if (external.includes('tcp/22')) throw new KibError('usage', `VM ${name}: host port tcp/22 is the host's SSH; forward another port to the VM's 22`);
  for (const f of s.forward4) {
    for (const [other, vm] of Object.entries(state.vms)) {
      if (other === name) continue;
      if (vm.forward4.some((g) => g.proto === f.proto && g.external === f.external)) {
        throw new KibError('conflict', `host port ${f.proto}/${f.external} is already forwarded to VM ${other}`);
      }
    }
  }
  if (s.boot.initrd && !s.boot.kernel) throw new KibError('usage', `VM ${name}: --initrd needs --kernel`);
  if (s.storage === 'lvm' && !s.vg) throw new KibError('usage', `VM ${name}: LVM storage needs a volume group (--vg, or default-volume-group in the config)`);
  if (s.base && s.storage !== 'image') throw new KibError('usage', `VM ${name}: --base needs image storage (--storage image)`);
  if (s.base && s.imageFormat !== 'qcow2') throw new KibError('usage', `VM ${name}: a linked clone (--base) is a qcow2 image`);
  if (s.storage === 'none' && s.disks.length > 0) throw new KibError('usage', `VM ${name}: --add-disk needs storage (--storage lvm or image)`);
}
