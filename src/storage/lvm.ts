// LVM volumes for VM disks, through the LVM tools with the host's extra arguments
// (lvm-args for every tool, lvcreate-args for lvcreate). kib tags what it creates and
// removes only volumes that carry its tag.
import type { Context } from '../context.ts';
import { KibError } from '../errors.ts';
import { run } from '../exec.ts';
import type { HostConfig } from '../model/config.ts';
import type { State } from '../model/state.ts';
import { disksOf, type Vm } from '../model/vm.ts';
import { isRunning } from './running.ts';

/** The tag on every volume kib creates. */
export const KIB_TAG = 'kib';

async function lvm(config: HostConfig, tool: string, args: string[]): Promise<string> {
  const extra = tool === 'lvcreate' ? [...config.lvmArgs, ...config.lvcreateArgs] : config.lvmArgs;
  const r = await run(tool, [...extra, ...args], { env: { LVM_SUPPRESS_FD_WARNINGS: '1' } });
  if (r.exitCode !== 0) throw new KibError('system', `${tool} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  return r.stdout;
}

export interface Volume {
  vg: string;
  lv: string;
  sizeMiB: number;
  tags: string[];
}

/** The volumes of a volume group (or of all). */
export async function listVolumes(config: HostConfig, vg?: string): Promise<Volume[]> {
  const out = await lvm(config, 'lvs', ['--noheadings', '--units', 'm', '--nosuffix', '--separator', '|', '-o', 'vg_name,lv_name,lv_size,lv_tags', ...(vg ? [vg] : [])]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [vgName, lv, size, tags] = l.split('|');
      return { vg: vgName, lv, sizeMiB: Math.round(Number(size)), tags: tags ? tags.split(',') : [] };
    });
}

/** The volumes of a volume group, or none when LVM cannot list it (no such VG, no LVM). */
export async function listVolumesIfAny(config: HostConfig, vg: string): Promise<Volume[]> {
  return listVolumes(config, vg).catch(() => []);
}

/** Free space of a volume group in MiB; an unknown VG is an error naming it. */
export async function freeMiB(config: HostConfig, vg: string): Promise<number> {
  const r = await run('vgs', [...config.lvmArgs, '--noheadings', '--units', 'm', '--nosuffix', '-o', 'vg_free', vg], { env: { LVM_SUPPRESS_FD_WARNINGS: '1' } });
  if (r.exitCode !== 0) {
    const output = (r.stderr || r.stdout).trim();
    if (/volume group .* not found/i.test(output)) throw new KibError('not-found', `no volume group '${vg}'`);
    throw new KibError('system', `vgs failed for '${vg}': ${output.split('\n').pop()}`);
  }
  return Math.floor(Number(r.stdout.trim()));
}

/** The volume of one of a VM's disks (null: the main one). */
export function volumeOf(name: string, vm: Vm, disk: string | null): { vg: string; lv: string; sizeMiB: number } {
  if (vm.storage !== 'lvm' || !vm.vg) throw new KibError('usage', `VM ${name} does not keep its disks on LVM (--storage lvm --vg VG)`);
  const d = disksOf(name, vm).find((x) => x.disk === disk);
  if (!d) throw new KibError('not-found', `VM ${name} has no disk '${disk}' (add it with kib change ${name} --add-disk ${disk})`);
  return { vg: vm.vg, lv: d.stem, sizeMiB: d.sizeMiB };
}

/** Creates a volume; returns its real size (LVM rounds up to whole extents). */
export async function createVolume(config: HostConfig, vg: string, lv: string, sizeMiB: number): Promise<number> {
  const free = await freeMiB(config, vg);
  const volumes = await listVolumes(config, vg);
  if (volumes.some((v) => v.lv === lv)) throw new KibError('exists', `volume ${vg}/${lv} already exists`);
  if (sizeMiB > free) throw new KibError('usage', `volume group ${vg} has ${free} MiB free; ${lv} needs ${sizeMiB} MiB`);
  await lvm(config, 'lvcreate', ['--addtag', KIB_TAG, '-L', `${sizeMiB}m`, '-n', lv, vg]);
  return sizeNow(config, vg, lv);
}

async function sizeNow(config: HostConfig, vg: string, lv: string): Promise<number> {
  return (await listVolumes(config, vg)).find((v) => v.lv === lv)?.sizeMiB ?? 0;
}

/** Grows a volume; returns its real size. */
export async function extendVolume(config: HostConfig, vg: string, lv: string, sizeMiB: number): Promise<number> {
  const free = await freeMiB(config, vg);
  const volume = (await listVolumes(config, vg)).find((v) => v.lv === lv);
  if (!volume) throw new KibError('not-found', `no volume ${vg}/${lv}`);
  if (sizeMiB < volume.sizeMiB) throw new KibError('usage', `${vg}/${lv} is ${volume.sizeMiB} MiB; shrinking a volume is refused`);
  if (sizeMiB === volume.sizeMiB) return sizeMiB;
  if (sizeMiB - volume.sizeMiB > free) throw new KibError('usage', `volume group ${vg} has ${free} MiB free; growing ${lv} needs ${sizeMiB - volume.sizeMiB} MiB`);
  await lvm(config, 'lvextend', ['-L', `${sizeMiB}m`, `${vg}/${lv}`]);
  return sizeNow(config, vg, lv);
}

export async function removeVolume(config: HostConfig, vg: string, lv: string): Promise<boolean> {
  const volume = (await listVolumes(config, vg)).find((v) => v.lv === lv);
  if (!volume) return false;
  if (!volume.tags.includes(KIB_TAG)) throw new KibError('conflict', `volume ${vg}/${lv} was not created by kib; remove it with lvremove`);
  await lvm(config, 'lvremove', ['-y', `${vg}/${lv}`]);
  return true;
}

/** Removes the kib-made volumes of a VM (remove --purge); returns what went. */
export async function removeVolumes(_ctx: Context, name: string, vm: Vm, config: HostConfig): Promise<string[]> {
  if (vm.storage !== 'lvm' || !vm.vg) return [];
  const removed: string[] = [];
  for (const d of disksOf(name, vm)) {
    const volume = (await listVolumes(config, vm.vg)).find((v) => v.lv === d.stem);
    if (!volume?.tags.includes(KIB_TAG)) continue;
    await lvm(config, 'lvremove', ['-y', `${vm.vg}/${d.stem}`]);
    removed.push(`${vm.vg}/${d.stem}`);
  }
  return removed;
}

export interface KibVolume extends Volume {
  vm: string;
  running: boolean;
}

/** kib's volumes: those of its VMs' disks, with whether the VM runs. */
export async function kibVolumes(config: HostConfig, state: State): Promise<KibVolume[]> {
  const owners = new Map<string, { vm: string; uid: number }>();
  for (const [name, vm] of Object.entries(state.vms)) {
    if (vm.storage === 'lvm' && vm.vg) for (const d of disksOf(name, vm)) owners.set(`${vm.vg}/${d.stem}`, { vm: name, uid: vm.uid });
  }
  const vgs = [...new Set([...owners.keys()].map((k) => k.split('/')[0]))];
  const out: KibVolume[] = [];
  for (const vg of vgs) {
    for (const v of await listVolumes(config, vg)) {
      const owner = owners.get(`${v.vg}/${v.lv}`);
      if (owner) out.push({ ...v, vm: owner.vm, running: await isRunning(owner.uid) });
    }
  }
  return out.sort((a, b) => `${a.vg}/${a.lv}`.localeCompare(`${b.vg}/${b.lv}`));
}
