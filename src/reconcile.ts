// The heart of every command that changes something: under the lock, read config and
// state, let the command change the state, plan every affected resource, validate the
// candidates, save the state, replace the files, and report. Dry runs stop after the plan.
import { existsSync } from 'node:fs';
import { readdir, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeText, type Context } from './context.ts';
import { combineErrors, KibError } from './errors.ts';
import { applyChanges } from './engine/apply.ts';
import { removeStaleCandidates } from './engine/atomic.ts';
import { acquireLock } from './engine/lock.ts';
import { pendingChanges, planChanges } from './engine/plan.ts';
import { renderDiffs, reportChanges, summarize, type ChangeSummary } from './engine/report.ts';
import type { Change, Resource } from './engine/resource.ts';
import { loadConfig, type HostConfig } from './model/config.ts';
import { isAssignable, parseIpv4 } from './model/net.ts';
import { renderState, type State } from './model/state.ts';
import { validateChanged } from './model/schema.ts';
import { hostNames, loadState, saveState } from './model/store.ts';
import { HOST, KIB_DIRS, rooted } from './paths.ts';
import { allResources, hostInputsOf } from './resources/index.ts';
import { reconcileLive } from './live/index.ts';

export interface ReconcileOptions {
  /** Changes the state in place before planning (create, change, remove). */
  mutate?: (state: State, config: HostConfig) => Promise<void> | void;
  /** Only resources of these scopes ('host' for host-wide ones); all when absent. */
  scopes?: Set<string>;
  /** `kib setup`: the one command that may start without a state file. */
  setup?: boolean;
  /**
   * Runs under the lock once the files are in place: disk images. It may change the
   * state (kept disks), which is then saved again. In dry runs it only says what it would do.
   */
  afterApply?: (state: State, config: HostConfig, dryRun: boolean) => Promise<string[]>;
  /**
   * `kib teardown`, the inverse of setup: refused while any VM exists or is being removed;
   * else every host-wide file loses kib's part, the live host follows, and the state file,
   * the lock and kib's empty directories go.
   */
  teardown?: boolean;
}

export interface ReconcileResult {
  changes: ChangeSummary[];
  state: State;
  config: HostConfig;
  /** What afterApply did, one line each (already printed). */
  extra?: string[];
  /** What the running host was asked to do, one line each (already printed). */
  live?: string[];
}

export async function reconcile(ctx: Context, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  // Everything that can fail without the lock fails before it, so that a refused first
  // run leaves no trace (not even the lock file).
  const config = await loadConfig(ctx.root);
  await checkSetUp(ctx.root, options.setup ?? false, options.teardown ?? false);
  const lock = ctx.dryRun ? undefined : await acquireLock(ctx.root);
  try {
    return await reconcileLocked(ctx, config, options);
  } finally {
    await lock?.close();
  }
}

/**
 * Only `kib setup` starts from no state, and only on a host without kib's files: a
 * missing state file on a host kib manages is lost data, never a fresh start.
 */
async function checkSetUp(root: string, setup: boolean, teardown = false): Promise<void> {
  if (existsSync(rooted(root, HOST.state)) || existsSync(rooted(root, HOST.legacyState))) return;
  if (teardown) throw new KibError('state', `kib is not set up on this host (no ${HOST.state}): nothing to tear down`);
  if (!setup) throw new KibError('state', `kib is not set up on this host (no ${HOST.state}); run 'kib setup' first`);
  const leftovers = await kibLeftovers(root);
  if (leftovers.length > 0) {
    throw new KibError('state', `${HOST.state} is missing but kib's files are here (${leftovers.slice(0, 3).join(', ')}); restore the state file from a backup`);
  }
}

/** Files only kib creates: VM units and homes. */
async function kibLeftovers(root: string): Promise<string[]> {
  const list = async (dir: string, match: RegExp) =>
    (await readdir(rooted(root, dir)).catch(() => [] as string[])).filter((f) => match.test(f)).map((f) => `${dir}/${f}`);
  return [...(await list(HOST.userUnitDir, /^kib-.*\.service$/)), ...(await list(HOST.homeBase, /^[a-z]/))];
}

async function reconcileLocked(ctx: Context, config: HostConfig, options: ReconcileOptions): Promise<ReconcileResult> {
  const loaded = await loadState(ctx.root, config);
  // A teardown that held the lock before us may have taken the state away.
  if (!options.setup && loaded.text === undefined && !loaded.migrated) await checkSetUp(ctx.root, false, options.teardown);
  if (options.teardown) checkNoVms(loaded.state);
  // Mutations replace the VM objects they change, so a shallow copy keeps the loaded
  // state intact for comparison, at no cost for the VMs left alone.
  const state: State = {
    ...loaded.state,
    vms: { ...loaded.state.vms },
    removing: { ...loaded.state.removing },
    keptDisks: { ...loaded.state.keptDisks },
    cursors: { ...loaded.state.cursors },
  };
  await options.mutate?.(state, config);
  const scopes = narrowScopes(options.scopes, loaded.state, state);
  const facts =
    !scopes || scopes.has('host') ? { shadowGid: (await hostNames(ctx.root)).shadowGid, packaged: existsSync(rooted(ctx.root, HOST.packageDir)) } : {};
  checkAddresses(state, config);
  const resources = allResources({ config, state, facts, teardown: options.teardown }).filter(
    (r) => !scopes || scopes.has(r.scope),
  );
  const changes = await planAll(ctx.root, resources);
  const stateText = renderState(state);
  const stateChanged = stateText !== loaded.text;
  if (stateChanged) validateChanged(loaded.state, state, options.scopes);

  if (ctx.dryRun) {
    const pending = pendingChanges(changes);
    if (!ctx.json && ctx.verbosity !== 'quiet') {
      const diffs = await renderDiffs(pending);
      if (diffs) writeText(1, diffs, 'latin1'); // file contents are byte strings
    }
    reportChanges(ctx, changes, true);
    const extra = (await options.afterApply?.(state, config, true)) ?? [];
    const live = ctx.live ? await reconcileLive(ctx, { config, state, changes, removed: state.removing, teardown: options.teardown }) : undefined;
    if (options.teardown) extra.push(...(await removeKibState(ctx, true)));
    return { changes: summarize(changes, ctx.verbosity === 'verbose'), state, config, extra, live };
  }

  if (!scopes) {
    // A full reconcile also clears what runs killed mid-way left in any of kib's directories.
    await Promise.all([...KIB_DIRS, config.diskDir].map((dir) => removeStaleCandidates(rooted(ctx.root, dir))));
  }
  await applyChanges(ctx.root, changes, {
    beforeCommit: async () => {
      if (stateChanged) await saveState(ctx.root, stateText);
    },
  });
  const removed = { ...state.removing };
  // Removals are complete once their resources are gone: forget those VMs for good.
  if (Object.keys(state.removing).length > 0 && !options.scopes) {
    state.removing = {};
    await saveState(ctx.root, state);
  } else if (options.scopes && Object.keys(state.removing).some((n) => options.scopes!.has(n))) {
    for (const n of Object.keys(state.removing)) if (options.scopes.has(n)) delete state.removing[n];
    await saveState(ctx.root, state);
  }
  reportChanges(ctx, changes, false);
  const extra = (await options.afterApply?.(state, config, false)) ?? [];
  // Only disk work (which reports a line for everything it does) changes the state here.
  if (extra.length > 0) {
    const final = renderState(state);
    if (final !== stateText) await saveState(ctx.root, final);
  }
  const live = ctx.live ? await reconcileLive(ctx, { config, state, changes, removed, teardown: options.teardown }) : undefined;
  // The state goes last: a teardown whose live part failed can run again.
  if (options.teardown) extra.push(...(await removeKibState(ctx, false)));
  return { changes: summarize(changes, ctx.verbosity === 'verbose'), state, config, extra, live };
}

/** Teardown takes kib away from the host only once no VM needs it. */
function checkNoVms(state: State): void {
  const vms = Object.keys(state.vms).sort();
  const removing = Object.keys(state.removing).sort();
  if (vms.length > 0) throw new KibError('exists', `VMs exist (${vms.join(', ')}): remove them before 'kib teardown'`);
  if (removing.length > 0) throw new KibError('exists', `the removal of ${removing.join(', ')} is not finished: run 'kib apply' before 'kib teardown'`);
}

/**
 * The end of a teardown: the state file and the lock go, then every empty directory under
 * kib's state directory, the directory itself last. A directory holding anything (kept
 * disks, downloaded images) stays, and is reported. Returns the report lines (printed).
 */
async function removeKibState(ctx: Context, dryRun: boolean): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    if (!ctx.json && ctx.verbosity !== 'quiet') ctx.out(line);
  };
  const verb = dryRun ? 'would delete' : 'deleted';
  for (const file of [HOST.state, HOST.lock]) {
    if (!existsSync(rooted(ctx.root, file))) continue;
    if (!dryRun) await unlink(rooted(ctx.root, file));
    say(`${verb} ${file}`);
  }
  const gone = new Set<string>([HOST.state, HOST.lock]);
  // Depth first: a directory is empty once its empty subdirectories are gone.
  const prune = async (dir: string): Promise<boolean> => {
    const entries = await readdir(rooted(ctx.root, dir), { withFileTypes: true }).catch(() => null);
    if (entries === null) return false;
    let empty = true;
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const sub = path.posix.join(dir, e.name);
      if (gone.has(sub)) continue;
      if (e.isDirectory() && (await prune(sub))) continue;
      empty = false;
      if (dir === HOST.stateDir) say(`kept ${sub}${e.isDirectory() ? '/' : ''} (not empty)`);
    }
    if (!empty) return false;
    if (!dryRun) await rmdir(rooted(ctx.root, dir));
    say(`${verb} ${dir}/`);
    return true;
  };
  await prune(HOST.stateDir);
  return lines;
}

/** Addresses never move, so a VM outside a changed public-address is an error to resolve by hand. */
function checkAddresses(state: State, config: HostConfig): void {
  for (const [name, vm] of Object.entries(state.vms)) {
    const ip = parseIpv4(vm.ipv4);
    if (ip === undefined || !isAssignable(config.public4, ip)) {
      throw new KibError('state', `VM ${name} has IPv4 ${vm.ipv4}, outside public-address ${config.public4Text}; restore the old public-address or remove the VM`);
    }
  }
}

/** Drops the host-wide scope when the command changed nothing host-wide resources read. */
function narrowScopes(scopes: Set<string> | undefined, before: State, after: State): Set<string> | undefined {
  if (!scopes?.has('host')) return scopes;
  const vms = [...scopes].filter((s) => s !== 'host');
  const hostWide = vms.some(
    (name) => hostInputsOf(before.vms[name]) !== hostInputsOf(after.vms[name]) || (name in before.removing) !== (name in after.removing),
  );
  return hostWide ? scopes : new Set(vms);
}

/** Plans every resource, reporting all problems at once. */
async function planAll(root: string, resources: Resource[]): Promise<Change[]> {
  try {
    return await planChanges(root, resources);
  } catch (first) {
    // Re-plan one by one to collect every problem, not just the first.
    const problems: KibError[] = [];
    for (const r of resources) {
      try {
        await planChanges(root, [r]);
      } catch (error) {
        if (!(error instanceof KibError)) throw error;
        if (!problems.some((p) => p.message === error.message)) problems.push(error);
      }
    }
    throw problems.length > 0 ? combineErrors(problems) : first;
  }
}
