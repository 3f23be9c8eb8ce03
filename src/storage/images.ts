// Image-file disks: one file per disk in the disk directory, mode 0600 and owned by the
// VM's user, made and grown with qemu-img. A linked clone is a qcow2 overlay whose
// backing file is a golden image from the images directory, made in constant time.
import { chmod, chown, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../context.ts';
import { KibError } from '../errors.ts';
import { run } from '../exec.ts';
import type { HostConfig } from '../model/config.ts';
import type { State } from '../model/state.ts';
import type { Vm } from '../model/vm.ts';
import { ensureDir, canChown } from '../engine/atomic.ts';
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
 * Creates the VM's image files that do not exist yet. A file kept from an earlier VM of
 * the same name (remove without --purge) is taken over, as its volumes would be on LVM.
 * Returns one line per file created or taken over.
 */
export async function createImages(ctx: Context, name: string, vm: Vm, config: HostConfig): Promise<string[]> {
  if (vm.storage !== 'image') return [];
  const created: string[] = [];
  // Root's directory; VM users reach only their own files in it.
  await ensureDir(rooted(ctx.root, config.diskDir));
  await chmod(rooted(ctx.root, config.diskDir), 0o711);
  for (const d of diskFilesOf(name, vm, config)) {
    const file = rooted(ctx.root, d.file);
    const current = await stat(file).catch(() => undefined);
    if (current) {
      if (canChown() && current.uid !== vm.uid) {
        await chown(file, vm.uid, vm.uid);
        created.push(`adopted ${d.file} (kept from an earlier VM ${name})`);
      }
      continue;
    }
    const args = ['create', '-q', '-f', d.format];
    if (d.disk === null && vm.base) args.push('-b', rooted(ctx.root, goldenPathOf(config, vm.base)), '-F', 'qcow2');
    await qemuImg([...args, file, `${d.sizeMiB}M`]);
    await chmod(file, 0o600);
    if (canChown()) await chown(file, vm.uid, vm.uid);
    created.push(`created ${d.file}`);
  }
  return created;
}

/** The golden image a clone will be made from must exist and be a qcow2 file. */
export async function checkGolden(root: string, config: HostConfig, image: string): Promise<void> {
  const file = rooted(root, goldenPathOf(config, image));
  if (!(await exists(file))) throw new KibError('not-found', `no golden image '${image}' in ${config.imageDir}`);
  const info = JSON.parse(await qemuImg(['info', '--output=json', file])) as { format: string };
  if (info.format !== 'qcow2') throw new KibError('usage', `golden image '${image}' is ${info.format}; linked clones need a qcow2 image`);
}

/** Grows one image file; shrinking would lose data and is refused. */
export async function resizeImage(root: string, d: DiskFile, sizeMiB: number): Promise<void> {
  if (sizeMiB < d.sizeMiB) throw new KibError('usage', `${d.file} is ${d.sizeMiB} MiB; shrinking a disk is refused`);
  if (sizeMiB === d.sizeMiB) return;
  await qemuImg(['resize', '-q', ...(d.format === 'raw' ? ['-f', 'raw'] : []), rooted(root, d.file), `${sizeMiB}M`]);
}

/** Deletes the image files kib made for a VM: only regular files its user owns. */
export async function removeImages(root: string, name: string, vm: Vm, config: HostConfig): Promise<string[]> {
  const removed: string[] = [];
  for (const d of diskFilesOf(name, vm, config)) {
    const file = rooted(root, d.file);
    const s = await stat(file).catch(() => undefined);
    if (!s?.isFile() || (canChown() && s.uid !== vm.uid)) continue;
    await unlink(file);
    removed.push(d.file);
  }
  return removed;
}

export interface GoldenImage {
  name: string;
  sizeBytes: number;
  dependents: string[];
}

/** The golden images in the images directory, with the VMs whose disks are linked clones of them. */
export async function listGolden(root: string, config: HostConfig, state: State): Promise<GoldenImage[]> {
  const dir = rooted(root, config.imageDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.startsWith('.')).sort();
  return Promise.all(
    names.map(async (image) => ({
      name: image,
      sizeBytes: (await stat(path.join(dir, image))).size,
      dependents: Object.keys(state.vms)
        .filter((vm) => state.vms[vm].base === image)
        .sort(),
    })),
  );
}
