// Where a VM's disks are: LVM volumes /dev/VG/NAME[-DISK], or image files
// DISK-DIRECTORY/NAME[-DISK].FORMAT owned by the VM's user.
import path from 'node:path';
import type { HostConfig } from '../model/config.ts';
import { disksOf, type Vm } from '../model/vm.ts';

export interface DiskFile {
  /** null for the main disk. */
  disk: string | null;
  /** The device or image path on the host. */
  file: string;
  /** What qemu reads: raw for volumes. */
  format: 'raw' | 'qcow2';
  sizeMiB: number;
}

export function diskFilesOf(name: string, vm: Vm, config: Pick<HostConfig, 'diskDir'>): DiskFile[] {
  if (vm.storage === 'none') return [];
  return disksOf(name, vm).map(({ disk, stem, sizeMiB }) =>
    vm.storage === 'lvm'
      ? { disk, file: `/dev/${vm.vg}/${stem}`, format: 'raw' as const, sizeMiB }
      : { disk, file: path.posix.join(config.diskDir, `${stem}.${vm.imageFormat}`), format: vm.imageFormat, sizeMiB },
  );
}

/** A golden image's path. */
export function goldenPathOf(config: Pick<HostConfig, 'imageDir'>, image: string): string {
  return path.posix.join(config.imageDir, image);
}
