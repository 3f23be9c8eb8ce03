// Installing Debian into the VM from the console: the installer is the unit
// kib-NAME-install@INSTANCE.service of the VM user's systemd instance (kib-install runs
// in it), INSTANCE being `auto` (the packaged preseed) or the name of a preseed file in
// the owner's home, escaped as systemd escapes unit names. The installer and the VM use
// the same disks, so neither starts while the other runs.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { KibError } from '../errors.ts';
import { printable } from '../model/validate.ts';
import { isPlainFileName } from '../qemu/cdrom.ts';
import { systemdEscape } from '../formats/systemd-escape.ts';
import { installing, type VmControl } from './control.ts';
import type { Self } from './identity.ts';

/** The instance for `install debian auto` and the packaged preseed. */
export const AUTO = 'auto';

/** The problem with a preseed file name the owner typed, or undefined for a plain file name. */
export function checkPreseedArgument(name: string): string | undefined {
  return isPlainFileName(name) ? undefined : `invalid preseed file name '${printable(name)}': the plain name of a file in your home directory`;
}

/** Starts the installer with the packaged preseed (`auto`) or a preseed file from the home directory. */
export async function startInstall(self: Self, control: VmControl, preseed: string): Promise<string> {
  let instance = AUTO;
  if (preseed !== AUTO) {
    const problem = checkPreseedArgument(preseed);
    if (problem) throw new KibError('usage', problem);
    const file = await lstat(path.join(self.home, preseed)).catch(() => undefined);
    if (!file?.isFile()) throw new KibError('not-found', `no file '${preseed}' in your home directory`);
    instance = systemdEscape(preseed);
  }
  const state = await control.state();
  if (state.up) throw new KibError('usage', `VM ${self.name} is ${state.summary}: stop it before installing (the installer writes to its disks)`);
  const busy = (await control.installs()).find(installing);
  if (busy) throw new KibError('usage', `an install of VM ${self.name} is already running (${busy.instance}); status-install follows it, kill-install stops it`);
  await control.startInstall(instance);
  return `installing Debian into VM ${self.name} (${preseed === AUTO ? 'unattended, packaged preseed' : `preseed ${preseed}`}): status-install follows it, console shows it`;
}

/** The installs the VM user's manager knows, one line each. */
export async function installStatus(self: Self, control: VmControl): Promise<string[]> {
  const runs = await control.installs();
  if (runs.length === 0) return [`no install of VM ${self.name} is running`];
  return runs.map((r) => `install ${r.instance} of VM ${self.name}: ${describeRun(r.activeState, r.subState)}`);
}

/** An installer unit's state in words. */
function describeRun(active: string, sub: string): string {
  if (active === 'active' || active === 'activating') return `running (${sub})`;
  if (active === 'failed') return `failed (${sub})`;
  if (active === 'deactivating') return 'stopping';
  return `finished (${sub})`;
}

/** Hard-stops every running install of the VM. */
export async function killInstall(self: Self, control: VmControl): Promise<string> {
  const runs = (await control.installs()).filter(installing);
  if (runs.length === 0) return `no install of VM ${self.name} is running`;
  for (const r of runs) await control.killInstall(r.unit);
  return `killed the install of VM ${self.name} (${runs.map((r) => r.instance).join(', ')})`;
}

/** Refuses to start the VM while an install runs on its disks. */
export async function checkNotInstalling(self: Self, control: VmControl): Promise<void> {
  const busy = (await control.installs()).find(installing);
  if (busy) throw new KibError('usage', `VM ${self.name} is being installed (${busy.instance}): wait until status-install says it finished, or kill-install`);
}
