// Which VM this console belongs to: the one whose user runs it. kib-console is the login
// shell of every VM user and runs with that user's rights, so it trusts nothing the user
// could have written: the VM is found from the process's uid in the passwd file kib
// renders, and confirmed by the VM's unit, a root-owned file only kib writes. (The state
// file is root's alone, mode 0600; nothing in it is needed here.)
import { lstat, readFile } from 'node:fs/promises';
import { KibError } from '../errors.ts';
import { parseColonDb } from '../formats/colon-db.ts';
import { checkVmName } from '../model/validate.ts';
import { HOST, rooted } from '../paths.ts';
import { unitOf } from '../resources/systemd.ts';
import { CONSOLE_SHELL, homeOf } from '../resources/users.ts';

/** The VM this console manages, and where its things are. */
export interface Self {
  name: string;
  user: string;
  uid: number;
  unit: string;
  /** The VM user's home as this process sees it (under the root kib works on). */
  home: string;
  /** The VM user's runtime directory (systemd's %t): its sockets are in kib-NAME/ below it. */
  runtimeDir: string;
}

/**
 * Finds the VM of the user with this uid, or refuses in one line: a user that is not a
 * kib VM user (root, an admin, a foreign kib-* user) gets no console.
 */
export async function findSelf(root: string, uid: number, userName: string, runtimeDir: string): Promise<Self> {
  const refuse = () => new KibError('usage', `${userName || `uid ${uid}`} is not a kib VM user; kib-console is the login shell of VM users only`);
  let passwd: string;
  try {
    passwd = await readFile(rooted(root, HOST.passwd), 'utf8');
  } catch (error) {
    throw new KibError('system', `cannot read ${HOST.passwd}: ${(error as Error).message}`);
  }
  const entry = parseColonDb(passwd).entries.find((e) => e.fields?.[2] === String(uid))?.fields;
  if (uid === 0 || !entry || !entry[0].startsWith('kib-')) throw refuse();
  const user = entry[0];
  const name = user.slice('kib-'.length);
  // Only kib writes these fields this way: a user kib did not make does not pass.
  if (checkVmName(name) || user !== userName || entry[5] !== homeOf(name) || entry[6] !== CONSOLE_SHELL) throw refuse();
  const unit = unitOf(name);
  const unitFile = await lstat(rooted(root, `${HOST.userUnitDir}/${unit}`)).catch(() => undefined);
  if (!unitFile?.isFile() || unitFile.uid !== 0) throw new KibError('not-found', `VM ${name} has no unit (${HOST.userUnitDir}/${unit}); ask the host's administrator`);
  return { name, user, uid, unit, home: rooted(root, homeOf(name)), runtimeDir };
}
