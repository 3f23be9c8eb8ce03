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
import { DEFAULT_SETTINGS, userOf, volumesOf } from './model/vm.ts';
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
      const settings = applyFlags({ ...structuredClone(DEFAULT_SETTINGS), vg: config.defaultVg ?? null }, flags);
      checkSettings(name, settings, state);
      state.vms[name] = { ...allocate(state, config, name, await takenIds(ctx.root)), ...settings };
    },
  });
}

export async function changeVm(ctx: Context, name: string, flags: VmFlags): Promise<ReconcileResult> {
  checkName(name);
  return reconcile(ctx, {
    scopes: new Set(['host', name]),
    mutate: (state) => {
      const vm = getVm(state, name);
      const settings = applyFlags(vm, flags);
      checkSettings(name, settings, state);
      state.vms[name] = { ...vm, ...settings };
    },
  });
}

/** Removes a VM's configuration; its volumes stay, and the result names them. */
export async function removeVm(ctx: Context, name: string): Promise<ReconcileResult & { keptVolumes: string[] }> {
  checkName(name);
  let keptVolumes: string[] = [];
  const result = await reconcile(ctx, {
    scopes: new Set(['host', name]),
    mutate: (state) => {
      const vm = getVm(state, name);
      keptVolumes = vm.vg ? volumesOf(name, vm).map((lv) => `${vm.vg}/${lv}`) : [];
      delete state.vms[name];
      state.removing[name] = { uid: vm.uid };
    },
  });
  return { ...result, keptVolumes };
}

export async function resourcePaths(ctx: Context): Promise<string[]> {
  const config = await loadConfig(ctx.root);
  const { state } = await loadState(ctx.root, config);
  return allResources({ config, state, facts: {} })
    .filter((r) => r.kind === 'dir' || r.desired !== undefined)
    .map((r) => r.path);
}
