// The disk commands: LVM volumes (kib lv create|extend|remove, kib lvs), image files
// (kib disk resize) and golden images (kib images). Each runs under kib's lock, and a
// size it changes is recorded in the VM's state.
import type { Context } from './context.ts';
import { KibError } from './errors.ts';
import type { HostConfig } from './model/config.ts';
import { getVm, type State } from './model/state.ts';
import { loadState } from './model/store.ts';
import { loadConfig } from './model/config.ts';
import { parseMiB, checkImageName } from './model/validate.ts';
import type { Vm } from './model/vm.ts';
import { reconcile } from './reconcile.ts';
import { dependentsOf, listGolden, resizeImage, type GoldenImage } from './storage/images.ts';
import { createVolume, extendVolume, kibVolumes, removeVolume, volumeOf, type KibVolume } from './storage/lvm.ts';
import { diskFilesOf, goldenPathOf } from './storage/paths.ts';
import { isRunning } from './storage/running.ts';
import { rooted } from './paths.ts';
import { lstat, unlink } from 'node:fs/promises';

function sizeOf(text: string): number {
  const mib = parseMiB(text);
  if (mib === undefined) throw new KibError('usage', `invalid size '${text}': expected a size like 20G`);
  return mib;
}

/** The VM with one disk's size set (null: the main disk). */
function withSize(vm: Vm, disk: string | null, sizeMiB: number): Vm {
  return disk === null ? { ...vm, diskMiB: sizeMiB } : { ...vm, disks: vm.disks.map((d) => (d.name === disk ? { ...d, sizeMiB } : d)) };
}

/** Runs a disk operation on one VM under the lock and records the new state. */
async function onVm(ctx: Context, name: string, op: (vm: Vm, config: HostConfig, state: State) => Promise<Vm | undefined>): Promise<void> {
  await reconcile(ctx, {
    scopes: new Set([name]),
    mutate: async (state, config) => {
      const updated = await op(getVm(state, name), config, state);
      if (updated) state.vms[name] = updated;
    },
  });
}

export async function lvCreate(ctx: Context, name: string, size: string, disk: string | null): Promise<void> {
  const sizeMiB = sizeOf(size);
  await onVm(ctx, name, async (vm, config) => {
    const { vg, lv } = volumeOf(name, vm, disk);
    const real = ctx.dryRun ? sizeMiB : await createVolume(config, vg, lv, sizeMiB);
    ctx.out(`${ctx.dryRun ? 'would create' : 'created'} volume ${vg}/${lv} (${real} MiB)`);
    return withSize(vm, disk, real);
  });
}

export async function lvExtend(ctx: Context, name: string, size: string, disk: string | null): Promise<void> {
  const sizeMiB = sizeOf(size);
  await onVm(ctx, name, async (vm, config) => {
    const { vg, lv } = volumeOf(name, vm, disk);
    const real = ctx.dryRun ? sizeMiB : await extendVolume(config, vg, lv, sizeMiB);
    ctx.out(`${ctx.dryRun ? 'would extend' : 'extended'} volume ${vg}/${lv} to ${real} MiB`);
    return withSize(vm, disk, real);
  });
}

export async function lvRemove(ctx: Context, name: string, disk: string | null): Promise<void> {
  await onVm(ctx, name, async (vm, config) => {
    const { vg, lv } = volumeOf(name, vm, disk);
    if (await isRunning(vm.uid)) throw new KibError('usage', `VM ${name} is running; stop it before removing ${vg}/${lv}`);
    const removed = ctx.dryRun || (await removeVolume(config, vg, lv));
    ctx.out(removed ? `${ctx.dryRun ? 'would remove' : 'removed'} volume ${vg}/${lv}` : `no volume ${vg}/${lv}`);
    return undefined;
  });
}

export async function lvList(ctx: Context): Promise<KibVolume[]> {
  const config = await loadConfig(ctx.root);
  const { state } = await loadState(ctx.root, config);
  return kibVolumes(config, state);
}

/** Grows an image-file disk (kib disk resize). */
export async function diskResize(ctx: Context, name: string, size: string, disk: string | null): Promise<void> {
  const sizeMiB = sizeOf(size);
  await onVm(ctx, name, async (vm, config) => {
    if (vm.storage !== 'image') throw new KibError('usage', `VM ${name} does not keep its disks in image files; for LVM use kib lv extend`);
    const d = diskFilesOf(name, vm, config).find((x) => x.disk === disk);
    if (!d) throw new KibError('not-found', `VM ${name} has no disk '${disk}'`);
    if (!ctx.dryRun) await resizeImage(ctx.root, d, sizeMiB);
    ctx.out(`${ctx.dryRun ? 'would resize' : 'resized'} ${d.file} to ${sizeMiB} MiB`);
    return withSize(vm, disk, sizeMiB);
  });
}

export async function imagesList(ctx: Context): Promise<GoldenImage[]> {
  const config = await loadConfig(ctx.root);
  const { state } = await loadState(ctx.root, config);
  return listGolden(ctx.root, config, state);
}

/** Deletes a golden image no VM's disk depends on. */
export async function imageRemove(ctx: Context, image: string): Promise<void> {
  const problem = checkImageName(image);
  if (problem) throw new KibError('usage', problem);
  await reconcile(ctx, {
    scopes: new Set(),
    mutate: async (state, config) => {
      const dependents = dependentsOf(state, image);
      if (dependents.length > 0) throw new KibError('conflict', `golden image '${image}' is the base of ${dependents.join(', ')}; remove those VMs (and kept disks) first`);
      const file = rooted(ctx.root, goldenPathOf(config, image));
      if (!(await lstat(file).catch(() => undefined))?.isFile()) throw new KibError('not-found', `no golden image '${image}' in ${config.imageDir}`);
      if (!ctx.dryRun) await unlink(file);
      ctx.out(`${ctx.dryRun ? 'would remove' : 'removed'} ${goldenPathOf(config, image)}`);
    },
  });
}
