// How command results reach stdout: resource lines are printed by the reconcile report;
// this adds the command's own summary, or one JSON document with everything.
import type { Context } from '../context.ts';
import type { ChangeSummary } from '../engine/report.ts';

export function printResult(ctx: Context, changes: ChangeSummary[], extra: object, summary?: string): void {
  if (ctx.json) {
    ctx.out(JSON.stringify({ dryRun: ctx.dryRun, changes, ...extra }, null, 2));
    return;
  }
  if (summary && ctx.verbosity !== 'quiet') ctx.out(summary);
}
