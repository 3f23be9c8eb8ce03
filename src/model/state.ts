// The desired state: every VM with its settings and stable allocations, in a versioned
// JSON file validated on every load. A file kib cannot read is an error, never a reset.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { KibError } from '../errors.ts';
import { HOST, rooted } from '../paths.ts';
import { VmSchema, type Vm } from './vm.ts';

export const STATE_VERSION = 1;

const StateSchema = z
  .object({
    version: z.literal(STATE_VERSION),
    vms: z.record(VmSchema),
    /**
     * VMs whose removal has begun: their host entries stay kib's until a reconcile has
     * removed them, so a crash half-way through `remove` cannot orphan them.
     */
    removing: z.record(z.object({ uid: z.number().int().positive() }).strict()),
    /** The last value handed out of each pool, so freed ones are reused only when fresh ones run out. */
    cursors: z
      .object({
        uid: z.number().int().nullable(),
        ipv4: z.string().nullable(),
        displayPort: z.number().int().nullable(),
      })
      .strict(),
  })
  .strict();

export type State = z.infer<typeof StateSchema>;

export function emptyState(): State {
  return { version: STATE_VERSION, vms: {}, removing: {}, cursors: { uid: null, ipv4: null, displayPort: null } };
}

/** Parses and validates state text; `file` names it in errors. */
export function parseState(content: string, file: string = HOST.state): State {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new KibError('state', `${file} is corrupt (${(error as Error).message}); restore it from a backup`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== STATE_VERSION) {
    throw new KibError('state', `${file} has unknown version ${JSON.stringify(version)}; this kib reads version ${STATE_VERSION}`);
  }
  const result = StateSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new KibError('state', `${file} is invalid at ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  checkUnique(result.data, file);
  return result.data;
}

/** Allocations must be unique; two VMs sharing one would mean the file was edited wrongly. */
function checkUnique(state: State, file: string): void {
  for (const key of ['uid', 'mac', 'ipv4', 'displayPort'] as const) {
    const seen = new Map<unknown, string>();
    for (const [name, vm] of Object.entries(state.vms)) {
      const other = seen.get(vm[key]);
      if (other) throw new KibError('state', `${file}: VMs ${other} and ${name} share ${key} ${vm[key]}`);
      seen.set(vm[key], name);
    }
  }
}

/** Serializes state deterministically (VMs by name). */
export function renderState(state: State): string {
  const sorted = <T>(record: Record<string, T>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ ...state, vms: sorted(state.vms), removing: sorted(state.removing) }, null, 2)}\n`;
}

/** Reads the state file; a missing file is an empty state (a fresh host), undefined if only a legacy file exists. */
export async function readStateFile(root: string): Promise<State | undefined> {
  let content: string;
  try {
    content = await readFile(rooted(root, HOST.state), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KibError('state', `cannot read ${HOST.state}: ${(error as Error).message}`);
  }
  return parseState(content);
}

export function vmNames(state: State): string[] {
  return Object.keys(state.vms).sort();
}

export function getVm(state: State, name: string): Vm {
  const vm = state.vms[name];
  if (!vm) throw new KibError('not-found', `no VM named '${name}'`);
  return vm;
}
