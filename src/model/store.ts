// Loading and saving the desired state under a root, including the one-time migration
// from the original kvm-in-a-box's state file.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../engine/atomic.ts';
import { HOST, rooted } from '../paths.ts';
import type { HostConfig } from './config.ts';
import { allocateDisplayPort, allocateUid, type TakenIds } from './allocate.ts';
import { migrateLegacyState, readLegacyState } from './legacy.ts';
import { emptyState, readStateFile, renderState, type State } from './state.ts';
import { validateState } from './schema.ts';
import { parseColonDb } from '../formats/colon-db.ts';
import { parseIpv4 } from './net.ts';
import { KibError } from '../errors.ts';

export interface LoadedState {
  state: State;
  /** The text as read (undefined when there was no state file), to tell whether it changed. */
  text?: string;
  /** Migrated from a legacy file on this load. */
  migrated: boolean;
}

/** Reads the state; without a state file, migrates a legacy one or starts a fresh host. */
export async function loadState(root: string, config?: HostConfig): Promise<LoadedState> {
  const file = await readStateFile(root);
  if (file) return { state: file.state, text: file.text, migrated: false };
  const legacy = await readLegacyState(root);
  if (!legacy) return { state: emptyState(), migrated: false };
  if (!config) throw new KibError('config', `${HOST.legacyState} needs migrating; write ${HOST.config} first`);
  const passwd = await readText(root, HOST.passwd);
  const migrated = migrateLegacyState(legacy, passwd);
  const taken = await takenIds(root);
  for (const vm of Object.values(migrated.vms)) {
    const ours = new Set(Object.values(migrated.vms).map((v) => v.uid));
    if (vm.uid === 0) vm.uid = allocateUid(migrated, config, taken, ours);
    if (vm.displayPort === 0) vm.displayPort = allocateDisplayPort(migrated, config, new Set(Object.values(migrated.vms).map((v) => v.displayPort)));
  }
  const ips = Object.values(migrated.vms).map((v) => v.ipv4).sort((a, b) => (parseIpv4(a) ?? 0) - (parseIpv4(b) ?? 0));
  migrated.cursors.ipv4 = ips.at(-1) ?? null;
  // Validate the result exactly as a later load will.
  return { state: validateState(migrated, HOST.legacyState), migrated: true };
}

/** Writes the state (rendered text, or a state to render). */
export async function saveState(root: string, state: State | string): Promise<void> {
  const text = typeof state === 'string' ? state : renderState(state);
  await writeFileAtomic(rooted(root, HOST.state), Buffer.from(text, 'utf8').toString('latin1'), 0o600, { uid: 0, gid: 0 });
}

async function readText(root: string, hostPath: string): Promise<string> {
  try {
    return await readFile(rooted(root, hostPath), 'latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** Every uid in passwd and gid in group under root. */
export async function takenIds(root: string): Promise<TakenIds> {
  const ids = (content: string) =>
    new Set(parseColonDb(content).entries.flatMap((e) => (e.fields && /^\d+$/.test(e.fields[2] ?? '') ? [Number(e.fields[2])] : [])));
  return { uids: ids(await readText(root, HOST.passwd)), gids: ids(await readText(root, HOST.group)) };
}

/** Every name in passwd, shadow, group and gshadow under root, and the shadow group's gid. */
export async function hostNames(root: string): Promise<{ names: Set<string>; shadowGid?: number }> {
  const names = new Set<string>();
  let shadowGid: number | undefined;
  for (const file of [HOST.passwd, HOST.shadow, HOST.group, HOST.gshadow]) {
    for (const e of parseColonDb(await readText(root, file)).entries) {
      if (!e.fields) continue;
      names.add(e.fields[0]);
      if (file === HOST.group && e.fields[0] === 'shadow' && /^\d+$/.test(e.fields[2] ?? '')) shadowGid = Number(e.fields[2]);
    }
  }
  return { names, shadowGid };
}
