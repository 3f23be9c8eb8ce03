// One installer run of a VM, as its own user (the VM's install unit): checks that nothing
// else has the VM's disks, takes the installer's kernel and initrd out of the Debian ISO,
// writes the effective preseed file where the installer's TFTP serves it, and runs the
// installer's qemu under the supervisor until the installer ends.
import { constants } from 'node:fs';
import { mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KibError } from '../errors.ts';
import { parseColonDb } from '../formats/colon-db.ts';
import { loadConfig, type HostConfig } from '../model/config.ts';
import { checkVmName } from '../model/validate.ts';
import { userOf } from '../model/vm.ts';
import { HOST, rooted } from '../paths.ts';
import { keysFileOf } from '../resources/ssh.ts';
import { homeOf } from '../resources/users.ts';
import { EXIT, supervise } from '../supervisor/supervise.ts';
import { installerFilesOf, type InstallerFiles } from './files.ts';
import { extractInstaller, findInstallerIso } from './iso.ts';
import { AUTO, KEYS_MARK, keysOfAuthorizedKeys, parseInstance, withAuthorizedKeys, type PreseedChoice } from './preseed.ts';
import { BUSY_STATES, qemuOfVm, vmUnitState } from './running.ts';

/** A preseed file is configuration text: anything larger is refused rather than served. */
const MAX_PRESEED_BYTES = 1024 * 1024;

export interface InstallRequest {
  /** The root the host's files are read under (/ on a host). */
  root: string;
  /** The VM user's runtime directory (systemd's %t). */
  runtimeRoot: string;
  /** Seconds the installer gets to power off when stopped. */
  timeout: number;
  name: string;
  /** The install unit's instance: auto or a preseed file name in the VM's home. */
  instance: string;
  /** The installer's qemu command line, as kib rendered it into the install unit. */
  qemu: string[];
  log: (line: string) => void;
}

/** Runs the installer to its end; resolves when it finished, throws a one-line KibError otherwise. */
export async function installVm(req: InstallRequest): Promise<void> {
  const { root, name } = req;
  const problem = checkVmName(name);
  if (problem) throw new KibError('usage', problem);
  const choice = parseInstance(req.instance);
  if (typeof choice === 'string') throw new KibError('usage', choice);
  const config = await loadConfig(root);
  const uid = await checkVmUser(root, name);
  await checkIdle(name, uid, req.runtimeRoot);
  const files = installerFilesOf(name, req.runtimeRoot);
  checkCommandLine(req.qemu, files);

  // Everything is read before anything is written: a refused run leaves nothing behind.
  const preseed = await readPreseed(root, name, choice);
  const keys = await rootKeys(root, name, config);
  const iso = await findInstallerIso(rooted(root, config.isoDir), config.isoDir, config.installerIso);
  const served = withAuthorizedKeys(preseed, keys);

  // A stop before qemu runs ends the run once the current step is done.
  let stopped = false;
  const onStop = () => (stopped = true);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  try {
    await rm(files.dir, { recursive: true, force: true });
    await mkdir(files.tftpDir, { recursive: true, mode: 0o700 });
    await symlink(iso, files.iso);
    await writeFile(files.preseed, served, { mode: 0o600 });
    const what = choice.kind === 'auto' ? `the packaged preseed (${AUTO})` : `the preseed file ${choice.file}`;
    const marked = preseed.includes(KEYS_MARK) ? `, ${keys.length} SSH key(s) for root` : `, no ${KEYS_MARK} in it: root's keys are up to the file`;
    req.log(`installing VM ${name} from ${path.basename(iso)} with ${what}${marked}`);
    await extractInstaller(iso, files.kernel, files.initrd);
    if (stopped) throw new KibError('system', `VM ${name}: the install was stopped before the installer started`);
    const code = await supervise([`--timeout=${req.timeout}`, '--', ...req.qemu]);
    if (stopped) throw new KibError('system', `VM ${name}: the install was stopped before it finished`);
    // The installer ends by powering off (kib's preseed) or by rebooting (d-i's default),
    // which ends qemu here (-no-reboot).
    if (code === EXIT.poweredOff || code === EXIT.reset) {
      req.log(`the installer of VM ${name} finished`);
      return;
    }
    throw new KibError('system', `VM ${name}: the installer did not finish (qemu ${code === EXIT.died ? 'failed or died' : 'was stopped by force'}; see the log above)`);
  } finally {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    await rm(files.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The VM user's uid; kib-install must run as that user, never as root or another VM's user. */
async function checkVmUser(root: string, name: string): Promise<number> {
  const passwd = await readFile(rooted(root, HOST.passwd), 'utf8').catch(() => '');
  const entry = parseColonDb(passwd).entries.find((e) => e.fields?.[0] === userOf(name));
  if (!entry) throw new KibError('not-found', `no VM named '${name}' (no user ${userOf(name)} in ${HOST.passwd})`);
  const uid = Number(entry.fields![2]);
  const me = process.getuid?.();
  if (me !== uid) throw new KibError('usage', `kib-install for VM ${name} runs as ${userOf(name)} (uid ${uid}), not as uid ${me}`);
  return uid;
}

/** Refuses while the VM's unit is up or any qemu of the VM runs: one qemu per set of disks. */
async function checkIdle(name: string, uid: number, runtimeRoot: string): Promise<void> {
  const state = await vmUnitState(name, runtimeRoot);
  if (state && BUSY_STATES.has(state)) throw new KibError('conflict', `VM ${name} is running (its unit is ${state}): stop it before installing`);
  const pid = await qemuOfVm(name, uid);
  if (pid) throw new KibError('conflict', `VM ${name} is running or installing (qemu pid ${pid}): stop it before installing`);
}

/** The unit's qemu command line must boot the files this run writes; an older unit does not. */
function checkCommandLine(qemu: string[], files: InstallerFiles): void {
  const boots = (flag: string, file: string) => qemu.some((arg, i) => arg === flag && qemu[i + 1] === file);
  if (qemu.length === 0 || !boots('-kernel', files.kernel) || !boots('-initrd', files.initrd)) {
    throw new KibError('usage', `the qemu command line does not boot the installer from ${files.dir} (an outdated install unit? kib apply renders it)`);
  }
}

/** The preseed text: the packaged file, or the owner's file read without following a symlink. */
async function readPreseed(root: string, name: string, choice: PreseedChoice): Promise<string> {
  if (choice.kind === 'auto') {
    return readFile(rooted(root, HOST.preseed), 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new KibError('system', `cannot read the packaged preseed file ${HOST.preseed}: ${error.code ?? error.message}`);
    });
  }
  const shown = `${homeOf(name)}/${choice.file}`;
  // O_NOFOLLOW: a symlink (to anywhere) is refused; O_NONBLOCK: a FIFO cannot hang the run.
  const fh = await open(path.join(rooted(root, homeOf(name)), choice.file), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' ? 'no such file' : error.code === 'ELOOP' ? 'it is a symlink' : (error.code ?? error.message);
      throw new KibError('usage', `cannot use the preseed file ${shown}: ${why}`);
    },
  );
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw new KibError('usage', `cannot use the preseed file ${shown}: not a regular file`);
    if (s.size > MAX_PRESEED_BYTES) throw new KibError('usage', `cannot use the preseed file ${shown}: larger than 1 MiB`);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** Root's keys in the installed system: the VM's owners' keys and the host's backdoor key. */
async function rootKeys(root: string, name: string, config: HostConfig): Promise<string[]> {
  const text = await readFile(rooted(root, keysFileOf(name)), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new KibError('system', `cannot read ${keysFileOf(name)}: ${error.code ?? error.message}`);
  });
  return [...keysOfAuthorizedKeys(text), ...(config.backdoorKey ? [config.backdoorKey] : [])];
}
