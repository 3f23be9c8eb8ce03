// The Debian installer ISO in root's ISO library, and its kernel and initrd taken out of
// it with xorriso (Debian's xorriso package): no network, and before qemu starts, since
// qemu's sandbox lets it start nothing.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { KibError } from '../errors.ts';
import { run, which } from '../exec.ts';

/** Where Debian's amd64 ISOs keep the installer's kernel and initrd (text frontend). */
export const ISO_KERNEL = '/install.amd/vmlinuz';
export const ISO_INITRD = '/install.amd/initrd.gz';

/** Installer ISOs as Debian names them: debian-13.2.0-amd64-netinst.iso, debian-testing-amd64-DVD-1.iso. */
const DEBIAN_ISO = /^debian-.*amd64.*\.iso$/;

/** Orders file names by their numbers too (13.10 after 13.9), then by text. */
const byVersion = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' }).compare;

/**
 * The installer ISO: `configured` (installer-iso) in the library `dir`, or else the
 * debian-*amd64*.iso there with the highest version. `shown` is the library as named to people.
 */
export async function findInstallerIso(dir: string, shown: string, configured?: string): Promise<string> {
  if (configured) {
    const file = path.join(dir, configured);
    const s = await stat(file).catch(() => undefined);
    if (!s?.isFile()) throw new KibError('not-found', `the installer ISO ${path.posix.join(shown, configured)} (installer-iso) does not exist`);
    return file;
  }
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw new KibError('system', `cannot read the ISO library ${shown}: ${error.code ?? error.message}`);
  });
  const candidates: string[] = [];
  for (const name of names.filter((n) => DEBIAN_ISO.test(n))) {
    if ((await stat(path.join(dir, name)).catch(() => undefined))?.isFile()) candidates.push(name);
  }
  if (candidates.length === 0) {
    throw new KibError('not-found', `no Debian installer ISO (debian-*-amd64-*.iso) in ${shown}: root puts one there, or names it with installer-iso`);
  }
  return path.join(dir, candidates.sort(byVersion).at(-1)!);
}

/** Copies the installer's kernel and initrd out of the ISO; an error names the ISO and xorriso's complaint. */
export async function extractInstaller(iso: string, kernel: string, initrd: string): Promise<void> {
  if (!(await which('xorriso'))) throw new KibError('system', 'xorriso is not installed: it takes the installer out of the ISO (apt-get install xorriso)');
  const r = await run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', ISO_KERNEL, kernel, '-extract', ISO_INITRD, initrd]);
  const missing = [];
  for (const file of [kernel, initrd]) if (!((await stat(file).catch(() => undefined))?.size ?? 0)) missing.push(file);
  if (r.exitCode === 0 && missing.length === 0) return;
  // xorriso talks a lot on stderr; its verdict is the line that says FAILURE or SORRY.
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.find((l) => /FAILURE|SORRY|FATAL/.test(l)) ?? lines.at(-1) ?? `exit status ${r.exitCode}`;
  throw new KibError('system', `cannot take ${ISO_KERNEL} and ${ISO_INITRD} from ${path.basename(iso)}: ${why}`);
}
