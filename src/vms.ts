// The VM lifecycle behind create, change and remove: each is a state change that the
// reconcile turns into host resources.
import type { Context } from './context.ts';
import { which } from './exec.ts';
import { KibError } from './errors.ts';
import { allocate } from './model/allocate.ts';
import { loadConfig } from './model/config.ts';
import { applyFlags, checkSettings, type VmFlags } from './model/settings.ts';
import { getVm, type State } from './model/state.ts';
import { hostNames, loadState, takenIds } from './model/store.ts';
import { checkVmName } from './model/validate.ts';
import { DEFAULT_SETTINGS, userOf, volumesOf, type Vm, type VmSettings } from './model/vm.ts';
import type { HostConfig } from './model/config.ts';
import { checkGolden, createImages, goldenMiB, keepImages, removeImages } from './storage/images.ts';
import { KIB_TAG, listVolumesIfAny, removeVolumes } from './storage/lvm.ts';
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
      if (settings.base) {
        await checkGolden(ctx.root, config, settings.base);
        // A clone is at least as large as its golden image: a smaller one would cut it off.
        const golden = await goldenMiB(ctx.root, config, settings.base);
        if (flags.diskSize === undefined) settings.diskMiB = golden;
        else if (settings.diskMiB < golden) throw new KibError('usage', `VM ${name}: --disk-size ${settings.diskMiB}M is smaller than golden image '${settings.base}' (${golden} MiB)`);
      }
      await checkStorage(name, settings, config);
      state.vms[name] = { ...allocate(state, config, name, await takenIds(ctx.root)), ...settings };
    },
    afterApply: (state, config, dryRun) => makeImages(ctx, [name], state, config, dryRun),
  });
}

/** What a VM's disks need before it is saved: qemu-img for images; no foreign volume under its names. */
async function checkStorage(name: string, vm: VmSettings, config: HostConfig): Promise<void> {
  if (vm.storage === 'image' && !(await which('qemu-img'))) throw new KibError('system', 'image storage needs qemu-img (package qemu-utils)');
  if (vm.storage === 'lvm' && vm.vg) {
    const foreign = (await listVolumesIfAny(config, vm.vg)).filter((v) => volumesOf(name, vm).includes(v.lv) && !v.tags.includes(KIB_TAG));
    if (foreign.length > 0) throw new KibError('conflict', `volume ${vm.vg}/${foreign[0].lv} exists and kib did not create it; VM ${name} would take it over`);
  }
}

/** Creates missing image files of the given VMs (taking over kept ones) and says so. */
async function makeImages(ctx: Context, names: string[], state: State, config: HostConfig, dryRun: boolean): Promise<string[]> {
  const lines: string[] = [];
  for (const name of names) if (state.vms[name]) lines.push(...(await createImages(ctx.root, name, state.vms[name], config, state, dryRun)));
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
      for (const key of ['storage', 'vg', 'imageFormat', 'base'] as const) {
        if (settings[key] !== vm[key]) throw new KibError('usage', `VM ${name}: its storage (--${key === 'imageFormat' ? 'image-format' : key}) is set when it is created`);
      }
      if (settings.diskMiB !== vm.diskMiB) throw new KibError('usage', `VM ${name}: a disk's size changes with 'kib disk resize' (or 'kib lv extend')`);
      for (const d of settings.disks) {
        const old = vm.disks.find((o) => o.name === d.name);
        if (old && old.sizeMiB !== d.sizeMiB) throw new KibError('usage', `VM ${name}: disk ${d.name} is ${old.sizeMiB} MiB; its size changes with 'kib disk resize' (or 'kib lv extend')`);
      }
      // New disks need what new VMs need (asking LVM only then: it is slow).
      const added = settings.disks.filter((d) => !vm.disks.some((o) => o.name === d.name));
      if (added.length > 0) await checkStorage(name, settings, config);
      // Disks dropped from the list stay where they are, recorded as kept.
      const dropped = diskFilesOf(name, vm, config).filter((d) => d.disk !== null && !settings.disks.some((x) => x.name === d.disk));
      if (vm.storage === 'image') await keepImages(ctx.root, name, dropped, vm, state);
      state.vms[name] = { ...vm, ...settings };
    },
    afterApply: (state, config, dryRun) => makeImages(ctx, [name], state, config, dryRun),
  });
}

/** kib apply: the host files, and any image file a VM lacks. */
export async function applyAll(ctx: Context): Promise<ReconcileResult> {
  return reconcile(ctx, { afterApply: (state, config, dryRun) => makeImages(ctx, Object.keys(state.vms).sort(), state, config, dryRun) });
}

/**
 * Removes a VM's configuration. Its disks stay (recorded as kept, and named in the result)
 * unless `purge`, which deletes the image files and volumes kib made for it.
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
      // Kept first even when purging: a crash before the deletion leaves them recorded.
      const kept = vm.storage === 'image' ? await keepImages(ctx.root, name, diskFilesOf(name, vm, config), vm, state) : [];
      keptDisks = purge ? [] : vm.storage === 'lvm' ? diskFilesOf(name, vm, config).map((d) => d.file) : kept;
      delete state.vms[name];
      state.removing[name] = { uid: vm.uid };
    },
    afterApply: async (state, config, dryRun) => {
      if (!purge || !removed) return [];
      const files =
        removed.storage === 'image' ? await removeImages(ctx.root, name, removed, config, dryRun) : dryRun ? [] : await removeVolumes(ctx, name, removed, config);
      for (const f of files) delete state.keptDisks[f];
      const lines = files.map((f) => `${dryRun ? 'would delete' : 'deleted'} ${f}`);
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
