// Each VM's systemd user units (the VM and its installer), the linger file that starts
// its user manager at boot, and the udev rule that gives it its volumes.
import { HOST } from '../paths.ts';
import { render } from '../templates.ts';
import { qemuArgv } from '../qemu/argv.ts';
import { MEDIUM_FILE } from '../qemu/cdrom.ts';
import { installerBootOf } from '../install/files.ts';
import { userOf, volumesOf } from '../model/vm.ts';
import { ROOT_OWNER, type Resource } from '../engine/resource.ts';
import { liveVms, type Desired } from './desired.ts';
import { memoryOverheadMiB, sandboxPathsOf } from './sandbox.ts';

/** Seconds the supervisor waits for an ACPI shutdown before it quits qemu. */
export const SHUTDOWN_TIMEOUT = 90;

/** Seconds an installer gets to power off when stopped: a stopped install is discarded anyway. */
export const INSTALL_SHUTDOWN_TIMEOUT = 10;
/** Room for the installer's kernel and initrd in the runtime directory (tmpfs, charged to the unit). */
const INSTALLER_FILES_MIB = 128;

export const unitOf = (name: string) => `kib-${name}.service`;
export const installUnitOf = (name: string) => `kib-${name}-install@.service`;

/**
 * Quotes one argument for a systemd Exec line so that systemd passes it on verbatim:
 * specifiers (%) and variables ($) are doubled, quotes and backslashes escaped.
 */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/\\/g, '\\\\').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"';]/.test(escaped) || escaped === '' ? `"${escaped.replace(/"/g, '\\"')}"` : escaped;
}

/** The supervisor's argv, as the unit runs it; `runtimeRoot` stands for systemd's %t. */
export function supervisorArgv(name: string, d: Desired, runtimeRoot = '%t', home = '%h'): string[] {
  const vm = d.state.vms[name];
  // The ISO in the CD drive: the owner's choice, recorded in its home, from root's library.
  const medium = [`--iso-dir=${d.config.isoDir}`, `--medium-file=${home}/${MEDIUM_FILE}`];
  return [`${HOST.sbin}/kib-supervise`, `--timeout=${SHUTDOWN_TIMEOUT}`, ...medium, '--', ...qemuArgv(name, vm, d.config, runtimeRoot)];
}

/**
 * kib-install's argv, as the VM's install unit runs it: the installer's qemu command line
 * is rendered here, from the VM's settings, because the VM's user cannot read the state.
 * `runtimeRoot` stands for %t and `instance` for %i (auto or a preseed file name).
 */
export function installArgv(name: string, d: Desired, runtimeRoot = '%t', instance = '%i'): string[] {
  const vm = d.state.vms[name];
  const installer = installerBootOf(name, d.config, runtimeRoot);
  return [
    `${HOST.sbin}/kib-install`,
    `--runtime-dir=${runtimeRoot}`,
    `--timeout=${INSTALL_SHUTDOWN_TIMEOUT}`,
    name,
    instance,
    '--',
    ...qemuArgv(name, vm, d.config, runtimeRoot, { installer }),
  ];
}

/**
 * The ExecStart line: every argument quoted, and only kib's own runtime directory (%t, the
 * user's runtime directory), the user's home (%h) and the unit's instance (%i) left for
 * systemd to expand.
 */
export function execStartOf(argv: string[], runtimeRoot: string, instance?: string): string {
  const expand = (quoted: string) => {
    const t = quoted.split(systemdQuote(runtimeRoot)).join('%t').split(HOME_MARK).join('%h');
    return instance === undefined ? t : t.split(systemdQuote(instance)).join('%i');
  };
  return argv.map((arg) => expand(systemdQuote(arg))).join(' ');
}

/** Stand-ins for %t and %i that no argument can contain (they are not valid paths or names). */
const RUNTIME_MARK = '\u0001kib-runtime\u0001';
const INSTANCE_MARK = '\u0001kib-instance\u0001';
/** The stand-in for %h, the home directory of the VM's user. */
const HOME_MARK = '\u0001kib-home\u0001';

export function systemdResources(d: Desired): Resource[] {
  const vms = liveVms(d.state);
  // Rendering waits for planning: a command on one VM renders only that VM's units.
  const file = (path: string, scope: string, content: () => string | null): Resource => ({
    kind: 'file',
    path,
    scope,
    desired: content,
    mode: 0o644,
    owner: ROOT_OWNER,
  });
  const out: Resource[] = [];
  for (const name of Object.keys(d.state.removing).sort()) {
    out.push(file(`${HOST.userUnitDir}/${unitOf(name)}`, name, () => null));
    out.push(file(`${HOST.userUnitDir}/${installUnitOf(name)}`, name, () => null));
    out.push(file(`${HOST.lingerDir}/${userOf(name)}`, name, () => null));
  }
  for (const { name, vm } of vms) {
    const memoryMax = `${vm.memMiB + memoryOverheadMiB(vm, d.config)}M`;
    // The stop timeout outlasts the supervisor's: ACPI, then quit, then kill.
    const common = { name, stopTimeout: SHUTDOWN_TIMEOUT + 30, memoryMax, vmUnit: unitOf(name), ...sandboxPathsOf(name, vm, d.config) };
    const execStart = () => execStartOf(supervisorArgv(name, d, RUNTIME_MARK, HOME_MARK), RUNTIME_MARK);
    out.push(file(`${HOST.userUnitDir}/${unitOf(name)}`, name, () => render('vm.service', { ...common, execStart: execStart() })));
    // The installer's memory also holds the kernel and initrd it unpacked into the runtime directory.
    const installMemoryMax = `${vm.memMiB + memoryOverheadMiB(vm, d.config) + INSTALLER_FILES_MIB}M`;
    const installExec = () => execStartOf(installArgv(name, d, RUNTIME_MARK, INSTANCE_MARK), RUNTIME_MARK, INSTANCE_MARK);
    out.push(file(`${HOST.userUnitDir}/${installUnitOf(name)}`, name, () => render('vm-install.service', { ...common, memoryMax: installMemoryMax, execStart: installExec() })));
    out.push(file(`${HOST.lingerDir}/${userOf(name)}`, name, () => ''));
  }
  const volumes = vms.flatMap(({ name, vm }) =>
    vm.storage === 'lvm' && vm.vg ? volumesOf(name, vm).map((lv) => ({ vg: vm.vg, lv, user: userOf(name) })) : [],
  );
  out.push(file(HOST.udevRules, 'host', () => (volumes.length === 0 ? null : render('udev.rules', { volumes }))));
  return out;
}
