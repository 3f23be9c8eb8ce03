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
} from './validate.ts';
import { DRIVE_DEVICES, MAX_GROUPS, type VmSettings } from './vm.ts';

/** Flags as the CLI hands them over: undefined when not given. */
export interface VmFlags {
  cpus?: string | number;
  mem?: string;
  arch?: string;
  driveDevice?: string;
  accel?: string;
  vg?: string | false;
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
  const disks = list(flags.addDisk);
  if (disks) {
    const problem = disks.map(checkDiskName).find(Boolean);
    if (problem) fail(problem);
    else if (new Set(disks).size !== disks.length) fail('--add-disk names a disk twice');
    else s.disks = disks;
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
}
