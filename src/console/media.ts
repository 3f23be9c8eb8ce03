// The VM's CD drive, from the owner's side: ISOs come from the library root fills
// (iso-directory), by plain file name only. The choice is recorded in MEDIUM_FILE in the
// VM user's home, where the supervisor finds it at every start; a running VM gets the
// medium at once through qemu's human monitor.
import { constants } from 'node:fs';
import { access, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../engine/atomic.ts';
import { KibError } from '../errors.ts';
import { printable } from '../model/validate.ts';
import { CDROM_DRIVE, isIsoName, MEDIUM_FILE, parseMediumFile } from '../qemu/cdrom.ts';
import type { Self } from './identity.ts';
import { monitorCommand, monitorSocketOf } from './monitor.ts';

/** The ISOs in the library: regular files with plain names ending in .iso, sorted. */
export async function listIsos(isoDir: string): Promise<string[]> {
  const names = await readdir(isoDir).catch(() => [] as string[]);
  const isos: string[] = [];
  for (const name of names.filter(isIsoName).sort()) {
    if ((await stat(path.join(isoDir, name)).catch(() => undefined))?.isFile()) isos.push(name);
  }
  return isos;
}

/** The ISO recorded for the drive, if any. */
export async function recordedMedium(self: Self): Promise<string | undefined> {
  return parseMediumFile(await readFile(path.join(self.home, MEDIUM_FILE), 'utf8').catch(() => ''));
}

/** The problem with an ISO name the owner typed, or undefined when it is a plain .iso file name. */
export function checkIsoArgument(name: string): string | undefined {
  return isIsoName(name) ? undefined : `invalid ISO name '${printable(name)}': a file name ending in .iso from the ISO library (attach-iso lists them)`;
}

/**
 * Puts an ISO from the library in the drive: recorded for every start, and changed in
 * the running VM now. A guest holding the tray locked gets it opened by force: the owner
 * asked for the change.
 */
export async function attachIso(self: Self, isoDir: string, name: string, running: boolean): Promise<string> {
  const problem = checkIsoArgument(name);
  if (problem) throw new KibError('usage', problem);
  const file = path.join(isoDir, name);
  const found = await stat(file).catch(() => undefined);
  if (!found?.isFile()) throw new KibError('not-found', `no ISO named '${name}' in the library (attach-iso lists them)`);
  if (!(await access(file, constants.R_OK).then(() => true, () => false))) throw new KibError('system', `ISO '${name}' is not readable by ${self.user}; ask the host's administrator`);
  await writeFileAtomic(path.join(self.home, MEDIUM_FILE), `${name}\n`, 0o600, { uid: self.uid, gid: self.uid });
  if (!running) return `attached ${name} to VM ${self.name}: it is in the drive from the next start`;
  const socket = monitorSocketOf(self.name, self.runtimeDir);
  const change = `change ${CDROM_DRIVE} ${file} raw read-only`;
  let answer = await monitorCommand(socket, change);
  if (/locked/i.test(answer)) {
    await monitorCommand(socket, `eject -f ${CDROM_DRIVE}`);
    answer = await monitorCommand(socket, change);
  }
  if (answer !== '') throw new KibError('system', `VM ${self.name} did not take ${name} (${answer.split('\n')[0]}); it is in the drive from the next start`);
  return `attached ${name} to VM ${self.name}: in the drive now and at every start`;
}

/** Empties the drive: no medium at the next start, and none now if the VM runs. */
export async function detachIso(self: Self, running: boolean): Promise<string> {
  const recorded = await recordedMedium(self);
  await rm(path.join(self.home, MEDIUM_FILE), { force: true });
  if (running) {
    const answer = await monitorCommand(monitorSocketOf(self.name, self.runtimeDir), `eject -f ${CDROM_DRIVE}`);
    if (answer !== '') throw new KibError('system', `VM ${self.name} did not eject its CD (${answer.split('\n')[0]}); the drive is empty from the next start`);
    return `ejected the CD of VM ${self.name}${recorded ? ` (${recorded})` : ''}`;
  }
  return recorded ? `detached ${recorded} from VM ${self.name}` : `VM ${self.name} has no CD attached`;
}
