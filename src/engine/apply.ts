// Applying a plan: every candidate is written beside its target and checked by its
// validator first; only when all pass does anything replace a live file. Then the
// renames, attribute fixes, deletions and directories, in plan order.
import { mkdir, unlink } from 'node:fs/promises';
import { KibError } from '../errors.ts';
import { run, which } from '../exec.ts';
import { rooted } from '../paths.ts';
import { candidatePath, commitCandidate, discardCandidate, ensureDir, removeTree, setAttributes, writeCandidate } from './atomic.ts';
import type { Change, FileResource } from './resource.ts';
import path from 'node:path';

export interface ApplyOptions {
  /** Runs after every candidate has passed and before the first live file changes (saves the state). */
  beforeCommit?: () => Promise<void>;
  /** Run validators where the tool is installed (default true). */
  validate?: boolean;
}

/** Applies pending changes; returns the changes that were made. */
export async function applyChanges(root: string, changes: Change[], options: ApplyOptions = {}): Promise<Change[]> {
  const pending = changes.filter((c) => c.action !== 'unchanged');
  // Candidates left by a run that was killed are stale: clear them first.
  await Promise.all(changes.filter((c) => c.resource.kind === 'file').map((c) => discardCandidate(candidatePath(rooted(root, c.resource.path)))));
  const candidates = new Map<Change, string>();
  try {
    const problems: KibError[] = [];
    for (const change of pending) {
      if (change.resource.kind !== 'file' || change.after === null || change.attributesOnly) continue;
      const r = change.resource;
      const tmp = await writeCandidate(rooted(root, r.path), change.after, r.mode, r.owner);
      candidates.set(change, tmp);
      const problem = options.validate === false ? undefined : await validateCandidate(r, tmp);
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) throw new KibError('validate', problems.map((p) => p.message).join('; '));
    await options.beforeCommit?.();
  } catch (error) {
    await Promise.all([...candidates.values()].map(discardCandidate));
    throw error;
  }
  for (const change of pending) await commitChange(root, change, candidates.get(change));
  return pending;
}

async function commitChange(root: string, change: Change, candidate: string | undefined): Promise<void> {
  const r = change.resource;
  const target = rooted(root, r.path);
  if (candidate) return commitCandidate(candidate, target);
  if (change.action === 'delete') {
    return r.kind === 'dir' ? removeTree(target) : unlink(target).catch(ignoreMissing);
  }
  if (r.kind === 'dir' && change.action === 'create') {
    await ensureDir(path.dirname(target));
    await mkdir(target, { mode: r.mode });
  }
  await setAttributes(target, r.mode, r.owner);
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

/** Checks a candidate with its real validator; undefined when it passes or the tool is not installed. */
async function validateCandidate(r: FileResource, candidate: string): Promise<KibError | undefined> {
  if (!r.validator) return undefined;
  const tool = await which(r.validator.tool);
  if (!tool) return undefined;
  const result = await run(tool, r.validator.args(candidate));
  if (result.exitCode === 0) return undefined;
  if (r.validator.inconclusive?.test(result.stderr + result.stdout)) return undefined;
  const detail = (result.stderr || result.stdout).trim().split('\n').slice(0, 3).join(' / ');
  return new KibError('validate', `${r.validator.tool} rejects the new ${r.path}: ${detail}`);
}
