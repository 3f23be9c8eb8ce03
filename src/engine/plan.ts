// Planning: read what is there, compute what should be there, compare. Pure apart from
// reading; nothing here writes.
import { open } from 'node:fs/promises';
import { rooted } from '../paths.ts';
import { attributesOf, canChown } from './atomic.ts';
import type { Change, DirResource, FileResource, Resource } from './resource.ts';


/** Reads a file with its attributes, or null when it does not exist. */
async function readWithAttributes(file: string): Promise<{ content: string; mode: number; uid: number; gid: number } | null> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const s = await fh.stat();
    // Byte for byte: foreign lines may hold any encoding; everything kib renders is ASCII.
    const content = await fh.readFile('latin1');
    return { content, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
  } finally {
    await fh.close();
  }
}

async function planFile(root: string, r: FileResource): Promise<Change> {
  const current = await readWithAttributes(rooted(root, r.path));
  const before = current?.content ?? null;
  const after = r.desired(before);
  if (before === null) return { resource: r, action: after === null ? 'unchanged' : 'create', before, after };
  if (after === null) return { resource: r, action: 'delete', before, after };
  if (before !== after) return { resource: r, action: 'update', before, after };
  const attributesDiffer =
    current!.mode !== r.mode || (canChown() && (current!.uid !== r.owner.uid || current!.gid !== r.owner.gid));
  return { resource: r, action: attributesDiffer ? 'update' : 'unchanged', before, after, attributesOnly: attributesDiffer };
}

async function planDir(root: string, r: DirResource): Promise<Change> {
  const current = await attributesOf(rooted(root, r.path));
  const exists = current?.isDir ?? false;
  if (!exists) return { resource: r, action: r.present ? 'create' : 'unchanged', before: null, after: null };
  if (!r.present) {
    // Only a directory that still belongs to the VM's user is kib's to delete.
    const ours = !canChown() || current!.uid === r.owner.uid;
    return { resource: r, action: ours ? 'delete' : 'unchanged', before: null, after: null };
  }
  const attributesDiffer =
    current!.mode !== r.mode || (canChown() && (current!.uid !== r.owner.uid || current!.gid !== r.owner.gid));
  return { resource: r, action: attributesDiffer ? 'update' : 'unchanged', before: null, after: null, attributesOnly: attributesDiffer };
}

/** Plans every resource; the result keeps the resources' order. */
export async function planChanges(root: string, resources: Resource[]): Promise<Change[]> {
  return Promise.all(resources.map((r) => (r.kind === 'file' ? planFile(root, r) : planDir(root, r))));
}

export function pendingChanges(changes: Change[]): Change[] {
  return changes.filter((c) => c.action !== 'unchanged');
}
