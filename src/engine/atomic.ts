// Atomic replacement of files: a temp file in the same directory gets the content, mode
// and owner, is flushed to disk, and is renamed over the target. Killed at any instant,
// the target is either the old file or the new one.
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import fse from 'fs-extra';
import path from 'node:path';
import type { Owner } from './resource.ts';

/** The temp file beside a target; a leftover from a crash is overwritten by the next write. */
export function candidatePath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.kib-new`);
}

/** Only root can give files their owners; tests as another user check modes alone. */
export const canChown = () => process.getuid?.() === 0;

/**
 * Writes the candidate beside the target and returns its path; rename it with
 * commitCandidate. Content is a byte string (latin1), as planning reads files.
 */
export async function writeCandidate(target: string, content: string, mode: number, owner: Owner): Promise<string> {
  await ensureDir(path.dirname(target));
  const tmp = candidatePath(target);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(Buffer.from(content, 'latin1'));
    await fh.chmod(mode);
    if (canChown()) await fh.chown(owner.uid, owner.gid);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/** Renames a candidate over its target and makes the rename durable. */
export async function commitCandidate(tmp: string, target: string): Promise<void> {
  await rename(tmp, target);
  await syncDir(path.dirname(target));
}

/** Removes the candidates a killed run left in a directory. */
export async function removeStaleCandidates(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.filter((f) => /^\..+\.kib-new$/.test(f)).map((f) => rm(path.join(dir, f), { force: true })));
}

export async function discardCandidate(tmp: string): Promise<void> {
  await rm(tmp, { force: true });
}

/** Atomic write in one step. */
export async function writeFileAtomic(target: string, content: string, mode: number, owner: Owner): Promise<void> {
  await commitCandidate(await writeCandidate(target, content, mode, owner), target);
}

/** Sets mode and owner of an existing file or directory. */
export async function setAttributes(target: string, mode: number, owner: Owner): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(target, 'r');
    await fh.chmod(mode);
    if (canChown()) await fh.chown(owner.uid, owner.gid);
  } finally {
    await fh?.close();
  }
}

/** Creates missing parent directories (0755), as package-managed directories are. */
export async function ensureDir(dir: string): Promise<void> {
  await fse.ensureDir(dir, 0o755);
}

/** Deletes a directory tree (a removed VM's home). */
export async function removeTree(dir: string): Promise<void> {
  await fse.remove(dir);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Mode bits and owner of a path, or undefined if it does not exist. */
export async function attributesOf(target: string): Promise<{ mode: number; uid: number; gid: number; isDir: boolean } | undefined> {
  try {
    const s = await stat(target);
    return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, isDir: s.isDirectory() };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
