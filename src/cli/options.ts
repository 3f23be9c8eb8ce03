// Options every command takes, and the VM flags shared by create and change.
import { statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { KibError } from '../errors.ts';
import { createContext, type Context } from '../context.ts';
import type { VmFlags } from '../model/settings.ts';

export interface GlobalArgs {
  root: string;
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
  dryRun?: boolean;
  live?: boolean;
}

export function contextOf(args: GlobalArgs): Context {
  for (const key of ['root', 'quiet', 'verbose', 'json', 'dryRun', 'live'] as const) {
    if (Array.isArray(args[key])) throw new KibError('usage', `--${key === 'dryRun' ? 'dry-run' : key} is given more than once`);
  }
  checkRoot(args.root);
  return createContext({ root: args.root, quiet: args.quiet, verbose: args.verbose, json: args.json, dryRun: args.dryRun, live: args.live });
}

/** The root must be an existing directory: an empty or mistyped --root is never '/' or created. */
export function checkRoot(root: string): void {
  if (root === '') throw new KibError('usage', '--root is empty');
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // missing: reported below
  }
  if (!isDir) throw new KibError('usage', `--root ${root} is not an existing directory`);
}

/** The VM flags of create and change (PRODUCT.md section 2). */
export function vmFlags<T>(yargs: Argv<T>) {
  return yargs
    .option('cpus', { type: 'string', describe: 'Virtual CPUs', group: 'VM:' })
    .option('mem', { type: 'string', describe: 'Memory (MiB, or with a K/M/G suffix)', group: 'VM:' })
    .option('arch', { type: 'string', describe: 'Architecture (x86_64)', group: 'VM:' })
    .option('drive-device', { type: 'string', describe: 'Disk device: virtio-blk-pci, scsi-hd or ide-hd', group: 'VM:' })
    .option('accel', { type: 'string', describe: 'Accelerator: kvm, tcg or default (the host config\'s)', group: 'VM:' })
    .option('vg', { type: 'string', describe: 'LVM volume group of its disks (--no-vg: none)', group: 'Storage:' })
    .option('storage', { type: 'string', describe: "Disks on LVM volumes, image files or none (default: the host config's)", group: 'Storage:' })
    .option('disk-size', { type: 'string', describe: 'Size of the main disk, like 20G', group: 'Storage:' })
    .option('add-disk', { type: 'string', array: true, describe: 'Extra disk NAME[:SIZE], volume or file NAME-DISK (repeatable; replaces the list)', group: 'Storage:' })
    .option('image-format', { type: 'string', describe: 'Image file format: qcow2 or raw', group: 'Storage:' })
    .option('base', { type: 'string', describe: 'Golden image (in the images directory) the main disk is a linked clone of', group: 'Storage:' })
    .option('ssh-key', { type: 'string', array: true, describe: 'Owner SSH public key (repeatable; replaces the list)', group: 'VM:' })
    .option('user', { type: 'boolean', describe: 'User-mode (NAT) network interface', group: 'Network:' })
    .option('public', { type: 'boolean', describe: 'Interface on the public bridge (IPv4 by DHCP, IPv6 by SLAAC)', group: 'Network:' })
    .option('private', { type: 'boolean', describe: 'Interface on the private (host-only) bridge', group: 'Network:' })
    .option('net-group', { type: 'string', array: true, describe: 'Group network ID 1-9999 shared with other VMs (repeatable)', group: 'Network:' })
    .option('forward4', { type: 'string', array: true, describe: 'Forward host port: PROTO:IPORT:EPORT (repeatable)', group: 'Network:' })
    .option('open6', { type: 'string', array: true, describe: 'Open IPv6 port to the VM: PROTO:PORT (repeatable)', group: 'Network:' })
    .option('kernel', { type: 'string', describe: 'Boot this kernel directly (absolute path)', group: 'Boot:' })
    .option('initrd', { type: 'string', describe: 'Initrd for --kernel (absolute path)', group: 'Boot:' })
    .option('append', { type: 'string', describe: 'Kernel command line for --kernel', group: 'Boot:' });
}

const LIST_FLAGS = new Set(['add-disk', 'ssh-key', 'net-group', 'forward4', 'open6']);

/**
 * A flag's value. A repeatable flag: `--no-X` clears the list, and only values after the
 * last `--no-X` count ('--no-forward4 --forward4 tcp:1:1' sets exactly one forward); a
 * repeatable flag given without a value is an error, not an empty list. Any other flag
 * may be given once.
 */
function valueOf(arg: string, value: unknown): unknown {
  if (!LIST_FLAGS.has(arg)) {
    if (Array.isArray(value)) throw new KibError('usage', `--${arg} is given more than once`);
    return value;
  }
  if (!Array.isArray(value)) return value;
  const cleared = value.lastIndexOf(false);
  const values = cleared === -1 ? value : value.slice(cleared + 1);
  if (values.length > 0) return values;
  if (cleared === -1) throw new KibError('usage', `--${arg} needs a value (--no-${arg} clears the list)`);
  return false;
}

/** Picks the VM flags out of parsed arguments; absent ones stay undefined. */
export function vmFlagsOf(args: Record<string, unknown>): VmFlags {
  const pick = <K extends keyof VmFlags>(key: K, arg: string) => (args[arg] === undefined ? undefined : (valueOf(arg, args[arg]) as VmFlags[K]));
  return {
    cpus: pick('cpus', 'cpus'),
    mem: pick('mem', 'mem'),
    arch: pick('arch', 'arch'),
    driveDevice: pick('driveDevice', 'drive-device'),
    accel: pick('accel', 'accel'),
    vg: pick('vg', 'vg'),
    storage: pick('storage', 'storage'),
    diskSize: pick('diskSize', 'disk-size'),
    imageFormat: pick('imageFormat', 'image-format'),
    base: pick('base', 'base'),
    addDisk: pick('addDisk', 'add-disk'),
    sshKey: pick('sshKey', 'ssh-key'),
    user: pick('user', 'user'),
    public: pick('public', 'public'),
    private: pick('private', 'private'),
    netGroup: pick('netGroup', 'net-group'),
    forward4: pick('forward4', 'forward4'),
    open6: pick('open6', 'open6'),
    kernel: pick('kernel', 'kernel'),
    initrd: pick('initrd', 'initrd'),
    append: pick('append', 'append'),
  };
}
