// Image-file disks: one file per disk in the disk directory, mode 0600 and owned by the
// VM's user, made and grown with qemu-img. A linked clone is a qcow2 overlay whose
// backing file is a golden image from the images directory, made in constant time.
import { chmod, chown, lstat, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KibError } from '../errors.ts';
import { run } from '../exec.ts';
import type { HostConfig } from '../model/config.ts';
import type { State } from '../model/state.ts';
import type { Vm } from '../model/vm.ts';
import { candidatePath, ensureDir, canChown } from '../engine/atomic.ts';
import { rooted } from '../paths.ts';
import { diskFilesOf, goldenPathOf, type DiskFile } from './paths.ts';

async function qemuImg(args: string[]): Promise<string> {
  const r = await run('qemu-img', args);
  if (r.exitCode !== 0) throw new KibError('system', `qemu-img ${args[0]} failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  return r.stdout;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Creates the VM's image files that do not exist yet, recording nothing on disk but the
 * files. A file already at a disk's path is taken over only if kib made it for a VM of
 * this name and kept it (state.keptDisks); anything else there is an error, never
 * touched. Returns one line per file created or taken over; `dryRun` only says so.
 */
export async function createImages(root: string, name: string, vm: Vm, config: HostConfig, state: State, dryRun: boolean): Promise<string[]> {
  if (vm.storage !== 'image') return [];
  const lines: string[] = [];
  const dir = rooted(root, config.diskDir);
  if (!dryRun && !(await exists(dir))) {
    // Root's directory; VM users reach only their own files in it.
    await ensureDir(dir);
    await chmod(dir, 0o711);
  }
  for (const d of diskFilesOf(name, vm, config)) {
    const file = rooted(root, d.file);
    const current = await lstat(file).catch(() => undefined);
    if (current) {
      const kept = state.keptDisks[d.file];
      // The VM's own file (made for its uid earlier, not kept): nothing to do.
      if (current.isFile() && current.uid === vm.uid && !kept) continue;
      if (!current.isFile() || kept?.vm !== name) {
        throw new KibError('conflict', `${d.file} already exists and kib did not keep it for VM ${name}; move it away first`);
      }
      if (!dryRun) {
        await chmod(file, 0o600);
        if (canChown()) await chown(file, vm.uid, vm.uid);
      }
      delete state.keptDisks[d.file];
      lines.push(`${dryRun ? 'would take over' : 'took over'} ${d.file} (kept from an earlier VM ${name})`);
      continue;
    }
    if (!dryRun) {
      // Made beside its path and renamed when whole, with its mode and owner: a run killed
      // half-way leaves a candidate (cleared by the next apply), never a stray disk.
      const tmp = candidatePath(file);
      const args = ['create', '-q', '-f', d.format];
      if (d.disk === null && vm.base) args.push('-b', rooted(root, goldenPathOf(config, vm.base)), '-F', 'qcow2');
      await rm(tmp, { force: true });
      await qemuImg([...args, tmp, `${d.sizeMiB}M`]);
      await chmod(tmp, 0o600);
      if (canChown()) await chown(tmp, vm.uid, vm.uid);
      await rename(tmp, file);
    }
    lines.push(`${dryRun ? 'would create' : 'created'} ${d.file}`);
  }
  return lines;
}

/** Records a VM's existing image files as kept (remove without --purge, a dropped disk). */
export async function keepImages(root: string, name: string, files: DiskFile[], vm: Vm, state: State): Promise<string[]> {
  const kept: string[] = [];
  for (const d of files) {
    if (!(await lstat(rooted(root, d.file)).catch(() => undefined))?.isFile()) continue;
    state.keptDisks[d.file] = { vm: name, base: d.disk === null ? vm.base : null };
    kept.push(d.file);
  }
  return kept;
}

/** Virtual size of a golden image, in MiB (rounded up). */
export async function goldenMiB(root: string, config: HostConfig, image: string): Promise<number> {
  const info = JSON.parse(await qemuImg(['info', '--output=json', '-U', rooted(root, goldenPathOf(config, image))])) as { 'virtual-size': number };
  return Math.ceil(info['virtual-size'] / 1048576);
}

/** The golden image a clone will be made from must exist and be a qcow2 file. */
export async function checkGolden(root: string, config: HostConfig, image: string): Promise<void> {
  const file = rooted(root, goldenPathOf(config, image));
  if (!(await lstat(file).catch(() => undefined))?.isFile()) throw new KibError('not-found', `no golden image '${image}' in ${config.imageDir}`);
  const info = JSON.parse(await qemuImg(['info', '--output=json', file])) as { format: string };
  if (info.format !== 'qcow2') throw new KibError('usage', `golden image '${image}' is ${info.format}; linked clones need a qcow2 image`);
}

/** Grows one image file; shrinking would lose data and is refused. */
export async function resizeImage(root: string, d: DiskFile, sizeMiB: number): Promise<void> {
  if (sizeMiB < d.sizeMiB) throw new KibError('usage', `${d.file} is ${d.sizeMiB} MiB; shrinking a disk is refused`);
  if (sizeMiB === d.sizeMiB) return;
  await qemuImg(['resize', '-q', ...(d.format === 'raw' ? ['-f', 'raw'] : []), rooted(root, d.file), `${sizeMiB}M`]);
}

/**
 * Deletes a VM's image files (remove --purge): every file at its disks' paths is one kib
 * made or took over for it; only regular files its user owns are deleted.
 */
export async function removeImages(root: string, name: string, vm: Vm, config: HostConfig, dryRun: boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const d of diskFilesOf(name, vm, config)) {
    const file = rooted(root, d.file);
    const s = await lstat(file).catch(() => undefined);
    if (!s?.isFile() || (canChown() && s.uid !== vm.uid)) continue;
    if (!dryRun) await unlink(file);
    removed.push(d.file);
  }
  return removed;
}

export interface GoldenImage {
  name: string;
  /** The size its clones see. */
  virtualMiB: number;
  /** VMs whose main disk is a clone of it, and kept disks (by path) that are. */
  dependents: string[];
}

/** What depends on a golden image: VMs cloned from it, and disks kept from such VMs. */
export function dependentsOf(state: State, image: string): string[] {
  const vms = Object.keys(state.vms).filter((vm) => state.vms[vm].base === image);
  const kept = Object.keys(state.keptDisks).filter((file) => state.keptDisks[file].base === image);
  return [...vms.sort(), ...kept.sort()];
}

/** The golden images in the images directory (regular files), with what depends on each. */
export async function listGolden(root: string, config: HostConfig, state: State): Promise<GoldenImage[]> {
  const dir = rooted(root, config.imageDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.startsWith('.')).sort();
  const images: GoldenImage[] = [];
  for (const image of names) {
    if (!(await lstat(path.join(dir, image)))?.isFile()) continue;
    images.push({ name: image, virtualMiB: await goldenMiB(root, config, image), dependents: dependentsOf(state, image) });
  }
  return images;
}
