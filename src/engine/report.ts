// What kib says about a plan or an apply: one line per resource created, updated or
// deleted (every resource with -v), unified diffs for dry runs, or JSON.
import type { Context } from '../context.ts';
import type { Action, Change } from './resource.ts';

const PAST: Record<Action, string> = { create: 'created', update: 'updated', delete: 'deleted', unchanged: 'unchanged' };
const FUTURE: Record<Action, string> = { create: 'would create', update: 'would update', delete: 'would delete', unchanged: 'unchanged' };

export interface ChangeSummary {
  path: string;
  action: Action;
  kind: 'file' | 'dir';
}

export function summarize(changes: Change[], all = false): ChangeSummary[] {
  return changes
    .filter((c) => all || c.action !== 'unchanged')
    .map((c) => ({ path: c.resource.path, action: c.action, kind: c.resource.kind }));
}

/** Prints one line per changed resource (every resource when verbose). */
export function reportChanges(ctx: Context, changes: Change[], planned: boolean): void {
  if (ctx.verbosity === 'quiet' || ctx.json) return;
  const words = planned ? FUTURE : PAST;
  for (const c of changes) {
    if (c.action === 'unchanged' && ctx.verbosity !== 'verbose') continue;
    const detail = c.attributesOnly ? ' (mode/owner)' : '';
    ctx.out(`${words[c.action]} ${c.resource.path}${c.resource.kind === 'dir' ? '/' : ''}${detail}`);
  }
}

/** The unified diff of every file a plan would change. */
export async function renderDiffs(changes: Change[]): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  return changes
    .filter((c) => c.action !== 'unchanged' && c.resource.kind === 'file' && !c.attributesOnly)
    .map((c) => {
      const from = c.before === null ? '/dev/null' : `a${c.resource.path}`;
      const to = c.after === null ? '/dev/null' : `b${c.resource.path}`;
      return createTwoFilesPatch(from, to, c.before ?? '', c.after ?? '', undefined, undefined, { context: 3 })
        .split('\n')
        .slice(1) // drop the '====' separator line
        .join('\n');
    })
    .join('');
}
