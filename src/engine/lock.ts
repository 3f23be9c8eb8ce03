// One kib at a time per root: commands that change anything hold an exclusive lock on
// var/lib/kib/lock for their whole run. Others wait; none fails. The kernel drops the
// lock when the holder exits, however it exits.
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { flockExclusive } from '../exec.ts';
import { HOST, rooted } from '../paths.ts';
import { ensureDir } from './atomic.ts';

export async function acquireLock(root: string): Promise<FileHandle> {
  const file = rooted(root, HOST.lock);
  await ensureDir(path.dirname(file));
  const fh = await open(file, 'a', 0o600);
  await flockExclusive(fh.fd);
  return fh;
}
