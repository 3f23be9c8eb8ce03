// kib images: the golden images linked clones are made from, with the VMs that depend
// on each; kib images remove IMAGE deletes one nothing depends on.
import type { CommandModule } from 'yargs';
import { contextOf, type GlobalArgs } from '../options.ts';

export const imagesCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'images [action] [image]',
  describe: 'List golden images and their linked clones; "remove IMAGE" deletes an unused one',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['list', 'remove'], default: 'list' })
      .positional('image', { type: 'string', describe: 'Image file name, for remove' }) as never,
  handler: async (args) => {
    const ctx = contextOf(args);
    const disks = await import('../../disks.ts');
    const { action, image } = args as { action?: string; image?: string };
    if (action === 'remove') return disks.imageRemove(ctx, String(image ?? ''));
    const images = await disks.imagesList(ctx);
    if (ctx.json) return ctx.out(JSON.stringify(images));
    for (const i of images) ctx.out(`${i.name.padEnd(32)} ${String(i.virtualMiB).padStart(8)} MiB  ${i.dependents.join(', ') || '-'}`);
  },
};
