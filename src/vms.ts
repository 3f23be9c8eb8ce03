// The VM lifecycle behind create, change and remove: each is a state change that the
// reconcile turns into host resources.
import type { Context } from './context.ts';
import { KibError } from './errors.ts';
import { allocate } from './model/allocate.ts';
import { loadConfig } from './model/config.ts';
import { applyFlags, checkSettings, type VmFlags } from './model/settings.ts';
import { getVm } from './model/state.ts';
import { hostNames, loadState, takenIds } from './model/store.ts';
import { checkVmName } from './model/validate.ts';
import { DEFAULT_SETTINGS, userOf, type Vm } from './model/vm.ts';
import type { HostConfig } from './model/config.ts';
import { checkGolden, createImages, removeImages } from './storage/images.ts';
import { removeVolumes } from './storage/lvm.ts';
import { diskFilesOf } from './storage/paths.ts';
import { isRunning } from './storage/running.ts';
import { reconcile, type ReconcileResult } from './reconcile.ts';
import { allResources } from './resources/index.ts';

function checkName(name: string): void {
  const problem = checkVmName(name);
  if (problem) throw new KibError('usage', problem);
}

export async function createVm(ctx: Context, name: string, flags: VmFlags): Promise<ReconcileResult> {
  checkName(name);
  return reconcile(ctx, {
    scopes: new Set(['host', name]),
    mutate: async (state, config) => {
      if (state.vms[name]) throw new KibError('exists', `VM ${name} already exists`);
      if (state.removing[name]) throw new KibError('state', `VM ${name} is still being removed; run 'kib apply' first`);
      const user = userOf(name);
      if ((await hostNames(ctx.root)).names.has(user)) {
        throw new KibError('conflict', `a user or group named ${user} already exists and kib did not create it`);
      }
      const defaults = { ...structuredClone(DEFAULT_SETTINGS), storage: config.storage, vg: config.defaultVg ?? null, diskMiB: config.defaultDiskMiB };
      const settings = applyFlags(defaults, flags);
      checkSettings(name, settings, state);
      if (settings.base) await checkGolden(ctx.root, config, settings.base);
      state.vms[name] = { ...allocate(state, config, name, await takenIds(ctx.root)), ...settings };
    },
    afterApply: (state, config) => makeImages(ctx, name, state.vms[name], config),
  });
}

/** Creates a VM's missing image files and says so. */
async function makeImages(ctx: Context, name: string, vm: Vm, config: HostConfig): Promise<string[]> {
  const lines = await createImages(ctx, name, vm, config);
  if (ctx.verbosity !== 'quiet' && !ctx.json) lines.forEach((l) => ctx.out(l));
  return lines;
}

export async function changeVm(ctx: Context, name: string, flags: VmFlags): Promise<ReconcileResult> {
  checkName(name);
  return reconcile(ctx, {
    scopes: new Set(['host', name]),
    mutate: async (state, config) => {
      const vm = getVm(state, name);
      const settings = applyFlags(vm, flags);
      checkSettings(name, settings, state);
      if (settings.diskMiB !== vm.diskMiB) throw new KibError('usage', `VM ${name}: a disk's size changes with 'kib disk resize' (or 'kib lv extend')`);
      if (settings.base !== vm.base) throw new KibError('usage', `VM ${name}: --base is set when the VM is created`);
      if (settings.storage !== vm.storage && (await isRunning(vm.uid))) throw new KibError('usage', `VM ${name} is running; stop it before changing its storage`);
      state.vms[name] = { ...vm, ...settings };
      void config;
    },
    afterApply: (state, config) => makeImages(ctx, name, state.vms[name], config),
  });
}

/**
 * Removes a VM's configuration. Its disks stay (the result names them) unless `purge`,
 * which deletes the image files and volumes kib made for it.
 */
export async function removeVm(ctx: Context, name: string, purge = false): Promise<ReconcileResult & { keptDisks: string[] }> {
  checkName(name);
  let removed: Vm | undefined;
  let keptDisks: string[] = [];
  const result = await reconcile(ctx, {
    scopes: new Set(['host', name]),
    mutate: async (state, config) => {
      const vm = getVm(state, name);
      if (purge && (await isRunning(vm.uid))) throw new KibError('usage', `VM ${name} is running; stop it before purging its disks`);
      removed = vm;
      keptDisks = purge ? [] : diskFilesOf(name, vm, config).map((d) => d.file);
      delete state.vms[name];
      state.removing[name] = { uid: vm.uid };
    },
    afterApply: async (_state, config) => {
      if (!purge || !removed) return [];
      const files = removed.storage === 'image' ? await removeImages(ctx.root, name, removed, config) : await removeVolumes(ctx, name, removed, config);
      const lines = files.map((f) => `deleted ${f}`);
      if (ctx.verbosity !== 'quiet' && !ctx.json) lines.forEach((l) => ctx.out(l));
      return lines;
    },
  });
  return { ...result, keptDisks };
}

export async function resourcePaths(ctx: Context): Promise<string[]> {
  const config = await loadConfig(ctx.root);
  const { state } = await loadState(ctx.root, config);
  return allResources({ config, state, facts: {} })
    .filter((r) => r.kind === 'dir' || r.desired !== undefined)
    .map((r) => r.path);
}
