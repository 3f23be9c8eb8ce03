// How command results reach stdout: resource lines are printed by the reconcile report;
// this adds the command's own summary, or one JSON document with everything.
import type { Context } from '../context.ts';
import type { ChangeSummary } from '../engine/report.ts';

/** A reconcile's outcome: file changes, and what the running host was asked to do. */
export interface Outcome {
  changes: ChangeSummary[];
  live?: string[];
}

export function printResult(ctx: Context, { changes, live }: Outcome, extra: object, summary?: string): void {
  if (ctx.json) {
    ctx.out(JSON.stringify({ dryRun: ctx.dryRun, changes, ...(live ? { live } : {}), ...extra }, null, 2));
    return;
  }
  if (summary && ctx.verbosity !== 'quiet') ctx.out(summary);
}
