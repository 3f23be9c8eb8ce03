// The live side of a reconcile: after the files are in place, the running host is asked
// to follow them. Each step observes the host and returns the actions that bring it to
// what the files say; nothing to do means the host already matches, so a second run does
// nothing. Actions are reported like resources.
import { run } from '../exec.ts';

export type LiveVerb = 'create' | 'update' | 'delete' | 'load' | 'reload' | 'restart' | 'set' | 'start' | 'stop';

const PAST: Record<LiveVerb, string> = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
  load: 'loaded',
  reload: 'reloaded',
  restart: 'restarted',
  set: 'set',
  start: 'started',
  stop: 'stopped',
};

export interface LiveAction {
  verb: LiveVerb;
  /** What it acts on, e.g. 'tap kpu-web (kib-web, bridge kpu, isolated)'. */
  object: string;
  apply(): Promise<void>;
}

/** The report line of an action: 'live: created tap kpu-web', 'live: would create ...'. */
export function describeAction(action: LiveAction, planned: boolean): string {
  return `live: ${planned ? `would ${action.verb}` : PAST[action.verb]} ${action.object}`;
}

/** Runs a program and fails with the first line of what it said when it fails. */
export async function must(file: string, args: string[], input?: string): Promise<string> {
  const r = await run(file, args, { input });
  if (r.exitCode !== 0) {
    const said = (r.stderr || r.stdout).trim().split('\n')[0] || `exit status ${r.exitCode}`;
    throw new Error(said.startsWith(`${file}:`) ? said : `${file} ${args.slice(0, 3).join(' ')}: ${said}`);
  }
  return r.stdout;
}
