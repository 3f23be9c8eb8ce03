// The desired state: every VM with its settings and stable allocations, in a versioned
// JSON file validated on every load. A file kib cannot read is an error, never a reset.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { KibError } from '../errors.ts';
import { HOST, rooted } from '../paths.ts';
import { VmSchema, type Vm } from './vm.ts';

export const STATE_VERSION = 1;

const StateSchema = z
  .object({
    version: z.literal(STATE_VERSION),
    vms: z.record(z.string(), VmSchema),
    /**
     * VMs whose removal has begun: their host entries stay kib's until a reconcile has
     * removed them, so a crash half-way through `remove` cannot orphan them.
     */
    removing: z.record(z.string(), z.object({ uid: z.number().int().positive() }).strict()),
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

/**
 * The state file is JSON, one VM per line, sealed with a digest of everything after it:
 *   {"digest":"sha256:HEX",
 *   "version":1,...
 * A file whose digest matches is exactly what kib wrote, and kib writes only states it has
 * validated, so loading it needs no second full validation. Any other file (edited by
 * hand, damaged, or written before the digest) is validated in full, and kib refuses a
 * file that fails.
 */
const SEAL = /^\{"digest":"sha256:([0-9a-f]{64})",\n/;

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
  const seal = SEAL.exec(content);
  const { digest, ...body } = json as Record<string, unknown>;
  if (seal && digestOf(`{${content.slice(seal[0].length)}`) === seal[1]) return body as State;
  return validateState(body, file);
}

/** Full validation against the schema, plus the rules a schema cannot say. */
export function validateState(json: unknown, file: string = HOST.state): State {
  const result = StateSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new KibError('state', `${file} is invalid at ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  checkUnique(result.data, file);
  return result.data;
}

/**
 * Validates a state about to be saved: the VMs whose objects differ from `before`'s
 * (already validated; mutations replace the VMs they change, optionally limited to
 * `only`) in full, everything else by structure, and uniqueness across all.
 */
export function validateChanged(before: State, after: State, only?: Set<string>): void {
  const changed = Object.fromEntries(
    Object.entries(after.vms).filter(([name, vm]) => (!only || only.has(name)) && before.vms[name] !== vm),
  );
  validateState({ ...after, vms: changed }, 'the new state');
  checkUnique(after, 'the new state');
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
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

/** Serializes state deterministically: VMs by name, one per line, sealed with its digest. */
export function renderState(state: State): string {
  const entries = (record: Record<string, unknown>) =>
    Object.keys(record)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${JSON.stringify(record[name])}`);
  const block = (record: Record<string, unknown>) => {
    const lines = entries(record);
    return lines.length === 0 ? '{}' : `{\n${lines.join(',\n')}\n}`;
  };
  const body = [
    `"version":${state.version}`,
    `"cursors":${JSON.stringify(state.cursors)}`,
    `"removing":${block(state.removing)}`,
    `"vms":${block(state.vms)}`,
  ].join(',\n');
  const sealed = `{${body}}\n`;
  return `{"digest":"sha256:${digestOf(sealed)}",\n${sealed.slice(1)}`;
}

/** Reads the state file with its text; undefined when there is none. */
export async function readStateFile(root: string): Promise<{ state: State; text: string } | undefined> {
  let text: string;
  try {
    text = await readFile(rooted(root, HOST.state), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KibError('state', `cannot read ${HOST.state}: ${(error as Error).message}`);
  }
  return { state: parseState(text), text };
}

export function vmNames(state: State): string[] {
  return Object.keys(state.vms).sort();
}

export function getVm(state: State, name: string): Vm {
  const vm = state.vms[name];
  if (!vm) throw new KibError('not-found', `no VM named '${name}'`);
  return vm;
}
