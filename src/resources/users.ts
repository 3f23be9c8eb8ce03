// The VM users: entries in passwd, shadow, group and gshadow, membership in the groups
// kib and kvm, and home directories. Foreign entries are copied through untouched; a
// foreign entry that takes one of kib's ids is a conflict.
import { KibError } from '../errors.ts';
import { findEntry, mergeOwnedEntries, parseColonDb, unparseColonDb, type ColonDb } from '../formats/colon-db.ts';
import { appendLines, eolStyle, joinLines } from '../formats/lines.ts';
import { HOST } from '../paths.ts';
import { userOf } from '../model/vm.ts';
import { ROOT_OWNER, type Resource } from '../engine/resource.ts';
import { liveVms, ownedUsers, type Desired } from './desired.ts';

/** Groups every VM user belongs to besides its own. */
export const SHARED_GROUPS = ['kib', 'kvm'] as const;
export const CONSOLE_SHELL = `${HOST.sbin}/kib-console`;

export const homeOf = (name: string) => `${HOST.homeBase}/${name}`;

export function userResources(d: Desired): Resource[] {
  const owned = ownedUsers(d.state);
  const vms = liveVms(d.state);
  const isOwned = (n: string) => owned.has(n);
  const ours = vms.map(({ name }) => userOf(name));
  const shadowOwner = { uid: 0, gid: d.facts.shadowGid ?? 0 };
  const shadowMode = d.facts.shadowGid === undefined ? 0o600 : 0o640;

  const passwd = (current: string | null) => {
    const db = parseColonDb(current ?? '');
    checkIdsFree(db, vms, owned, HOST.passwd);
    const entries = vms.map(({ name, vm }) => [userOf(name), 'x', String(vm.uid), String(vm.uid), `kib VM ${name}`, homeOf(name), CONSOLE_SHELL]);
    return unparseColonDb(mergeOwnedEntries(db, isOwned, entries));
  };
  const shadow = (current: string | null) => {
    const entries = vms.map(({ name }) => [userOf(name), '*', '', '', '', '', '', '', '']);
    return unparseColonDb(mergeOwnedEntries(parseColonDb(current ?? ''), isOwned, entries));
  };
  const group = (current: string | null) => {
    let db = parseColonDb(current ?? '');
    checkIdsFree(db, vms, owned, HOST.group);
    db = mergeOwnedEntries(db, isOwned, vms.map(({ name, vm }) => [userOf(name), 'x', String(vm.uid), '']));
    for (const g of SHARED_GROUPS) db = withMembers(db, g, 3, owned, ours, () => [g, 'x', String(freeSystemGid(db)), '']);
    return unparseColonDb(d.teardown && !d.facts.packaged ? withoutEmptyGroup(db, KIB_GROUP, [3]) : db);
  };
  const gshadow = (current: string | null) => {
    if (current === null) return null; // a host without gshadow does not use it
    let db = mergeOwnedEntries(parseColonDb(current), isOwned, vms.map(({ name }) => [userOf(name), '!', '', '']));
    for (const g of SHARED_GROUPS) db = withMembers(db, g, 3, owned, ours, () => [g, '!', '', '']);
    return unparseColonDb(d.teardown && !d.facts.packaged ? withoutEmptyGroup(db, KIB_GROUP, [2, 3]) : db);
  };

  const homes: Resource[] = [...Object.entries(d.state.removing).map(([name, r]) => ({ name, uid: r.uid, present: false })),
    ...vms.map(({ name, vm }) => ({ name, uid: vm.uid, present: true }))]
    .map(({ name, uid, present }) => ({
      kind: 'dir' as const,
      path: homeOf(name),
      scope: name,
      present,
      mode: 0o750,
      owner: { uid, gid: uid },
    }));

  return [
    { kind: 'file', path: HOST.group, scope: 'host', desired: group, mode: 0o644, owner: ROOT_OWNER },
    { kind: 'file', path: HOST.gshadow, scope: 'host', desired: gshadow, mode: shadowMode, owner: shadowOwner },
    { kind: 'file', path: HOST.passwd, scope: 'host', desired: passwd, mode: 0o644, owner: ROOT_OWNER },
    { kind: 'file', path: HOST.shadow, scope: 'host', desired: shadow, mode: shadowMode, owner: shadowOwner },
    ...homes,
  ];
}

/**
 * The group kib creates (setup does, unless the package's postinst did), which teardown
 * removes, but only while nobody is in it and only without the package (whose purge
 * removes it): `fields` are the member (and, in gshadow, administrator) fields. The kvm
 * group stays: it is the kvm device's group, which the host's udev normally provides.
 */
export const KIB_GROUP = 'kib';

function withoutEmptyGroup(db: ColonDb, group: string, fields: number[]): ColonDb {
  const first = db.entries.findIndex((e) => e.fields?.[0] === group);
  if (first === -1 || fields.some((f) => (db.entries[first].fields![f] ?? '') !== '')) return db;
  return { entries: db.entries.filter((_, i) => i !== first) };
}

/** A foreign entry holding the id (uid, or gid) kib allocated to a VM is a conflict. */
function checkIdsFree(db: ColonDb, vms: { name: string; vm: { uid: number } }[], owned: Set<string>, file: string): void {
  const foreign = new Map<string, string>();
  for (const e of db.entries) if (e.fields && !owned.has(e.fields[0])) foreign.set(e.fields[2], e.fields[0]);
  for (const { name, vm } of vms) {
    const holder = foreign.get(String(vm.uid));
    if (holder) throw new KibError('conflict', `${file}: id ${vm.uid} of VM ${name} is taken by the foreign entry '${holder}'`);
  }
}

/**
 * Sets kib's members of a shared group, keeping foreign members in their order; kib's
 * follow them, sorted. A missing group is created from `create`.
 */
function withMembers(db: ColonDb, group: string, field: number, owned: Set<string>, ours: string[], create: () => string[]): ColonDb {
  const fields = findEntry(db, group);
  if (!fields) {
    if (ours.length === 0 && group !== 'kib') return db;
    const entry = create();
    entry[field] = ours.join(',');
    const lines = appendLines(db.entries.map((e) => e.line), [{ text: entry.join(':'), eol: eolStyle(db.entries.map((e) => e.line)) }]);
    return parseColonDb(joinLines(lines));
  }
  const foreign = (fields[field] ?? '').split(',').filter((m) => m !== '' && !owned.has(m));
  const members = [...foreign, ...ours].join(',');
  if ((fields[field] ?? '') === members) return db;
  const updated = fields.slice();
  updated[field] = members;
  // Only the first entry of a name counts (as for getgrnam); a duplicate stays as it is.
  const first = db.entries.findIndex((e) => e.fields?.[0] === group);
  return {
    entries: db.entries.map((e, i) => (i === first ? { line: { ...e.line, text: updated.join(':') }, fields: updated } : e)),
  };
}

/** The highest gid below 1000 not in use, as addgroup --system picks one. */
function freeSystemGid(db: ColonDb): number {
  const used = new Set(db.entries.map((e) => e.fields?.[2]));
  for (let gid = 999; gid >= 100; gid--) if (!used.has(String(gid))) return gid;
  throw new KibError('exhausted', `${HOST.group}: no free system gid left for kib's groups`);
}
