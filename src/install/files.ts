// Where an installer run keeps its files, and how its kernel is told to install: all in
// the VM's runtime directory, so the install unit's qemu command line (rendered by kib)
// and kib-install (which fills the directory) agree on every path.
import type { HostConfig } from '../model/config.ts';
import { runtimeDirOf, type InstallerBoot } from '../qemu/argv.ts';

/** The address of the host on qemu's user-mode network: its TFTP server. */
export const SLIRP_HOST = '10.0.2.2';
export const PRESEED_FILE = 'preseed.cfg';

export interface InstallerFiles {
  /** The directory of one installer run, removed when it ends. */
  dir: string;
  kernel: string;
  initrd: string;
  /** A symlink to the installer ISO in the ISO library. */
  iso: string;
  /** What the installer's TFTP serves: the effective preseed file. */
  tftpDir: string;
  preseed: string;
}

/** The installer's files for VM `name` under a runtime root (%t in units). */
export function installerFilesOf(name: string, runtimeRoot: string): InstallerFiles {
  const dir = `${runtimeDirOf(name, runtimeRoot)}/install`;
  return {
    dir,
    kernel: `${dir}/vmlinuz`,
    initrd: `${dir}/initrd.gz`,
    iso: `${dir}/installer.iso`,
    tftpDir: `${dir}/tftp`,
    preseed: `${dir}/tftp/${PRESEED_FILE}`,
  };
}

/**
 * The installer's kernel command line: fully automatic, the preseed file fetched over TFTP
 * once the network is up, the VM's name as host name (asked before the preseed is read),
 * and the serial console that `console` shows.
 */
export function installerAppend(name: string, domain: string): string {
  return [
    'auto=true',
    'priority=critical',
    `url=tftp://${SLIRP_HOST}/${PRESEED_FILE}`,
    `hostname=${name}`,
    `domain=${domain}`,
    'console=ttyS0,115200n8',
  ].join(' ');
}

/** The installer qemu boots for VM `name` (see qemuArgv's `installer` option). */
export function installerBootOf(name: string, config: Pick<HostConfig, 'domain'>, runtimeRoot: string): InstallerBoot {
  const files = installerFilesOf(name, runtimeRoot);
  return { kernel: files.kernel, initrd: files.initrd, append: installerAppend(name, config.domain), cdrom: files.iso, tftpDir: files.tftpDir };
}
