// Each VM's systemd user units (the VM and its installer), the linger file that starts
// its user manager at boot, and the udev rule that gives it its volumes.
import { HOST } from '../paths.ts';
import { render } from '../templates.ts';
import { qemuArgv } from '../qemu/argv.ts';
import { userOf, volumesOf } from '../model/vm.ts';
import { ROOT_OWNER, type Resource } from '../engine/resource.ts';
import { liveVms, type Desired } from './desired.ts';
import { memoryOverheadMiB, sandboxPathsOf } from './sandbox.ts';

/** Seconds the supervisor waits for an ACPI shutdown before it quits qemu. */
export const SHUTDOWN_TIMEOUT = 90;

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
export function supervisorArgv(name: string, d: Desired, runtimeRoot = '%t'): string[] {
  const vm = d.state.vms[name];
  return [`${HOST.sbin}/kib-supervise`, `--timeout=${SHUTDOWN_TIMEOUT}`, '--', ...qemuArgv(name, vm, d.config, runtimeRoot)];
}

/**
 * The ExecStart line: every argument quoted, and only kib's own runtime directory left
 * for systemd to expand (%t, the user's runtime directory).
 */
export function execStartOf(argv: string[], runtimeRoot: string): string {
  return argv.map((arg) => systemdQuote(arg).split(systemdQuote(runtimeRoot)).join('%t')).join(' ');
}

/** A stand-in for %t that no argument can contain (it is not a valid path). */
const RUNTIME_MARK = '\u0001kib-runtime\u0001';

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
    const execStart = () => execStartOf(supervisorArgv(name, d, RUNTIME_MARK), RUNTIME_MARK);
    out.push(file(`${HOST.userUnitDir}/${unitOf(name)}`, name, () => render('vm.service', { ...common, execStart: execStart() })));
    const installExec = [`${HOST.sbin}/kib-install`, name, '%i'].join(' ');
    out.push(file(`${HOST.userUnitDir}/${installUnitOf(name)}`, name, () => render('vm-install.service', { ...common, execStart: installExec })));
    out.push(file(`${HOST.lingerDir}/${userOf(name)}`, name, () => ''));
  }
  const volumes = vms.flatMap(({ name, vm }) =>
    vm.storage === 'lvm' && vm.vg ? volumesOf(name, vm).map((lv) => ({ vg: vm.vg, lv, user: userOf(name) })) : [],
  );
  out.push(file(HOST.udevRules, 'host', () => (volumes.length === 0 ? null : render('udev.rules', { volumes }))));
  return out;
}
