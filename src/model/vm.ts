// The desired settings of one VM, and the names on the host that derive from its name.
import type { Vm } from './schema.ts';

export type { Vm };

export const DRIVE_DEVICES = ['virtio-blk-pci', 'scsi-hd', 'ide-hd'] as const;
export const ARCHES = ['x86_64'] as const;
export const STORAGES = ['lvm', 'image', 'none'] as const;
export const IMAGE_FORMATS = ['qcow2', 'raw'] as const;
export type Storage = (typeof STORAGES)[number];
export type Disk = Vm['disks'][number];

export type VmSettings = Omit<Vm, 'uid' | 'mac' | 'ipv4' | 'displayPort'>;

/** Settings of a VM created without flags. */
export const DEFAULT_SETTINGS: VmSettings = {
  arch: 'x86_64',
  cpus: 1,
  memMiB: 512,
  driveDevice: 'virtio-blk-pci',
  accel: null,
  storage: 'none',
  vg: null,
  diskMiB: 10240,
  disks: [],
  imageFormat: 'qcow2',
  base: null,
  sshKeys: [],
  net: { user: false, public: false, private: false, groups: [] },
  forward4: [],
  open6: [],
  boot: { kernel: null, initrd: null, append: null },
};

/** Host names derived from a VM name. */
export const userOf = (name: string) => `kib-${name}`;
export const publicTapOf = (name: string) => `kpu-${name}`;
export const privateTapOf = (name: string) => `kpr-${name}`;
/** The tap for the i-th group network of a VM (at most 10 per VM keeps it within 15 bytes). */
export const groupTapOf = (name: string, index: number) => `kg${index}-${name}`;
export const groupBridgeOf = (id: number) => `kgr${id}`;
export const PUBLIC_BRIDGE = 'kpu';
export const PRIVATE_BRIDGE = 'kpr';
export const MAX_GROUPS = 10;

/** The VM's logical volume names: the main disk, then NAME-DISK for each extra disk. */
export function volumesOf(name: string, vm: Pick<Vm, 'disks'>): string[] {
  return [name, ...vm.disks.map((d) => `${name}-${d.name}`)];
}

/** Every disk of a VM with its volume or file stem and size: the main one first. */
export function disksOf(name: string, vm: Pick<Vm, 'disks' | 'diskMiB'>): { disk: string | null; stem: string; sizeMiB: number }[] {
  return [{ disk: null, stem: name, sizeMiB: vm.diskMiB }, ...vm.disks.map((d) => ({ disk: d.name, stem: `${name}-${d.name}`, sizeMiB: d.sizeMiB }))];
}
