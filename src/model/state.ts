// The desired state: every VM with its settings and stable allocations, in a versioned
// JSON file validated on every load. A file kib cannot read is an error, never a reset.
import { readFile } from 'node:fs/promises';
import { KibError } from '../errors.ts';
import { checksum } from './checksum.ts';
import { HOST, rooted } from '../paths.ts';
import type { State, Vm } from './schema.ts';

export type { State };

export const STATE_VERSION = 1;

export function emptyState(): State {
  return { version: STATE_VERSION, vms: {}, removing: {}, keptDisks: {}, cursors: { uid: null, ipv4: null, displayPort: null } };
}

/**
 * The state file is JSON, one VM per line, sealed with a digest of everything after it:
 *   {"digest":"fnv1a:HEX",
 *   "version":1,...
 * A file whose digest matches is exactly what kib wrote, and kib writes only states it has
 * validated, so loading it needs no second full validation. Any other file (edited by
 * hand, damaged, or written before the digest) is validated in full, and kib refuses a
 * file that fails.
 */
const SEAL = /^\{"digest":"fnv1a:([0-9a-f]{16})",\n/;

/**
 * Parses state text and checks its version and seal. `sealed` says whether the digest
 * matches; only then may the JSON be trusted without a full validation.
 */
export function openState(content: string, file: string = HOST.state): { json: Record<string, unknown>; sealed: boolean } {
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
  const { digest: _digest, ...body } = json as Record<string, unknown>;
  body.keptDisks ??= {};
  return { json: body, sealed: seal !== null && checksum(`{${content.slice(seal[0].length)}`) === seal[1] };
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
    `"keptDisks":${block(state.keptDisks)}`,
    `"vms":${block(state.vms)}`,
  ].join(',\n');
  const sealed = `{${body}}\n`;
  return `{"digest":"fnv1a:${checksum(sealed)}",\n${sealed.slice(1)}`;
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
  const { json, sealed } = openState(text);
  if (sealed) return { state: json as State, text };
  // Only a file kib did not write this way needs the schema (and zod) loaded.
  const { validateState } = await import('./schema.ts');
  return { state: validateState(json), text };
}

export function vmNames(state: State): string[] {
  return Object.keys(state.vms).sort();
}

export function getVm(state: State, name: string): Vm {
  const vm = state.vms[name];
  if (!vm) throw new KibError('not-found', `no VM named '${name}'`);
  return vm;
}
