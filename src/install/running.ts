// Whether a VM's qemu may start for an installer: not while the VM's unit is up, and not
// while any qemu of the VM (the VM itself or another installer) runs on its disks.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../exec.ts';
import { unitOf } from '../resources/systemd.ts';

/** The unit's state from the user's own systemd (active, activating, ...), or undefined without one. */
export async function vmUnitState(name: string, runtimeRoot: string): Promise<string | undefined> {
  if (!existsSync(path.join(runtimeRoot, 'systemd', 'private')) && !existsSync(path.join(runtimeRoot, 'bus'))) return undefined;
  const r = await run('systemctl', ['--user', 'is-active', unitOf(name)], { env: { XDG_RUNTIME_DIR: runtimeRoot, SYSTEMD_PAGER: 'cat' } });
  const state = r.stdout.trim();
  return /^[a-z-]+$/.test(state) ? state : undefined;
}

/** States in which the VM's unit has or is about to have a qemu on the disks. */
export const BUSY_STATES = new Set(['active', 'activating', 'deactivating', 'reloading', 'refreshing']);

/**
 * The pid of a qemu of VM `name` run by `uid` (qemu -name NAME,...), found in /proc: the
 * check that holds where there is no systemd to ask.
 */
export async function qemuOfVm(name: string, uid: number): Promise<number | undefined> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1) !== uid) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!path.basename(argv[0] ?? '').startsWith('qemu-system')) continue;
    const i = argv.indexOf('-name');
    // -name NAME,... or -name guest=NAME,...
    const guest = argv[i + 1]?.split(',')[0].replace(/^guest=/, '');
    if (i !== -1 && guest === name) return Number(pid);
  }
  return undefined;
}
