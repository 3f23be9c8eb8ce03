// What a VM's systemd unit grants its sandbox: the memory limit above the guest's memory,
// the devices bound into its private /dev and the directories it may write.
import path from 'node:path';
import type { HostConfig } from '../model/config.ts';
import type { Vm } from '../model/vm.ts';
import { diskFilesOf } from '../storage/paths.ts';
import { systemdQuote } from './systemd.ts';

/** The MiB qemu and the supervisor may use beyond the guest's memory. */
export function memoryOverheadMiB(vm: Vm, config: Pick<HostConfig, 'accel'>): number {
  // Page tables, device state and the supervisor; TCG adds its translation cache, which
  // qemu sizes at up to 1 GiB.
  return 256 + Math.ceil(vm.memMiB / 8) + ((vm.accel ?? config.accel) === 'tcg' ? 1024 : 0);
}

/**
 * What the sandbox must still reach, as unit values: the devices qemu opens (bound into
 * the unit's private /dev) and the directories of the image files it writes (the rest of
 * the file system is read-only to it). Empty when there is nothing.
 */
export function sandboxPathsOf(name: string, vm: Vm, config: HostConfig): { devices: string; writable: string } {
  const devices: string[] = [];
  if ((vm.accel ?? config.accel) === 'kvm') devices.push('/dev/kvm');
  if (vm.net.public || vm.net.private || vm.net.groups.length > 0) devices.push('/dev/net/tun');
  const disks = diskFilesOf(name, vm, config);
  if (vm.storage === 'lvm') devices.push(...disks.map((d) => d.file));
  const writable = vm.storage === 'image' ? [...new Set(disks.map((d) => path.posix.dirname(d.file)))] : [];
  // '-': a missing path does not stop the unit; qemu then says which file it lacks.
  const list = (paths: string[]) => paths.map((p) => `-${systemdQuote(p)}`).join(' ');
  return { devices: list(devices), writable: list(writable) };
}
