// The qemu command line of a VM, built purely from its settings.
import type { HostConfig } from '../model/config.ts';
import { privateTapOf, publicTapOf, groupTapOf, type Vm } from '../model/vm.ts';
import { diskFilesOf } from '../storage/paths.ts';
import { macFromSeed } from '../model/net.ts';
import { privateMacOf } from '../model/addresses.ts';
import { cdromArgs } from './cdrom.ts';

export const QEMU = '/usr/bin/qemu-system-x86_64';

/** Where the VM's sockets live: systemd's %t (the user's runtime directory) plus kib-NAME. */
export const runtimeDirOf = (name: string, runtimeRoot = '%t') => `${runtimeRoot}/kib-${name}`;

/** What an OS installer boots in place of the VM's own kernel, NICs and media. */
export interface InstallerBoot {
  kernel: string;
  initrd: string;
  append: string;
  /** The installer ISO, a CD-ROM: the installer loads its own components from it. */
  cdrom: string;
  /** Served over TFTP on the installer's user-mode NIC, which stands in for the VM's NICs. */
  tftpDir: string;
}

export interface QemuOptions {
  /** Boot an installer with the VM's disks (kib-install) instead of the VM itself. */
  installer?: InstallerBoot;
}

/** qemu's argv for a VM; `runtimeRoot` is %t in units and a real path when run directly. */
export function qemuArgv(name: string, vm: Vm, config: HostConfig, runtimeRoot = '%t', options: QemuOptions = {}): string[] {
  const accel = vm.accel ?? config.accel;
  const run = runtimeDirOf(name, runtimeRoot);
  const argv = [
    QEMU,
    // guest=: a VM named like one of -name's own parameters (id, process) stays its name.
    '-name', `guest=${name},debug-threads=on`,
    '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-nodefaults',
    '-no-user-config',
    // A guest reboot ends qemu (SHUTDOWN guest-reset): the supervisor exits non-zero and
    // systemd starts the VM afresh.
    '-no-reboot',
    '-machine', `pc,accel=${accel}`,
    '-cpu', accel === 'kvm' ? 'host' : 'max',
    '-smp', String(vm.cpus),
    '-m', `${vm.memMiB}M`,
    '-display', 'none',
    '-chardev', `socket,id=serial0,path=${run}/ttyS0.sock,server=on,wait=off`,
    '-serial', 'chardev:serial0',
    '-chardev', `socket,id=monitor,path=${run}/monitor.sock,server=on,wait=off`,
    '-mon', 'chardev=monitor,mode=readline',
    '-qmp', 'stdio',
  ];
  if (vm.driveDevice === 'scsi-hd') argv.push('-device', 'virtio-scsi-pci,id=scsi0');
  diskFilesOf(name, vm, config).forEach(({ file, format }, i) => {
    argv.push('-drive', `file=${file},format=${format},if=none,id=disk${i},cache=none`);
    argv.push('-device', `${vm.driveDevice},drive=disk${i}`);
  });
  const nic = (id: string, netdev: string, mac: string) => {
    argv.push('-netdev', `${netdev},id=${id}`, '-device', `virtio-net-pci,netdev=${id},mac=${mac}`);
  };
  const installer = options.installer;
  if (installer) {
    // One NIC, in the PCI slot of the VM's first NIC: the interface name the installed
    // system configures is then the one it boots with.
    nic('install', `user,tftp=${installer.tftpDir}`, vm.mac);
    argv.push('-drive', `file=${installer.cdrom},format=raw,if=none,id=installer,media=cdrom,readonly=on`, '-device', 'ide-cd,drive=installer');
    argv.push('-kernel', installer.kernel, '-initrd', installer.initrd, '-append', installer.append);
    return argv;
  }
  if (vm.net.public) nic('public', `tap,ifname=${publicTapOf(name)},script=no,downscript=no`, vm.mac);
  if (vm.net.private) nic('private', `tap,ifname=${privateTapOf(name)},script=no,downscript=no`, privateMacOf(vm));
  vm.net.groups.forEach((id, i) => nic(`group${id}`, `tap,ifname=${groupTapOf(name, i)},script=no,downscript=no`, macFromSeed(`${vm.mac}/group${id}`)));
  if (vm.net.user) nic('user', 'user', macFromSeed(`${vm.mac}/user`));
  // Always there, empty: the owner's console changes its medium, the supervisor inserts
  // the recorded one at start (see cdrom.ts).
  argv.push(...cdromArgs());
  if (vm.boot.kernel) argv.push('-kernel', vm.boot.kernel);
  if (vm.boot.initrd) argv.push('-initrd', vm.boot.initrd);
  if (vm.boot.append) argv.push('-append', vm.boot.append);
  return argv;
}
