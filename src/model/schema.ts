// The schemas of the desired state, in zod: a state file kib did not seal itself, and
// every state kib is about to save, is validated against them in full.
import { z } from 'zod';
import { KibError } from '../errors.ts';
import { HOST } from '../paths.ts';
import { openState, STATE_VERSION } from './state.ts';
import { ARCHES, DRIVE_DEVICES, IMAGE_FORMATS, MAX_GROUPS, STORAGES } from './vm.ts';
import { checkAppend, checkBootPath, checkDiskName, checkImageName, checkSshKey, checkVgName, checkVmName } from './validate.ts';

/** A string the given check accepts (the check returns a message for a bad one). */
const checked = (check: (v: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    const problem = check(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const Forward4Schema = z.object({
  proto: z.enum(['tcp', 'udp']),
  internal: z.number().int().min(1).max(65535),
  external: z.number().int().min(1).max(65535),
});

export const Open6Schema = z.object({
  proto: z.enum(['tcp', 'udp']),
  port: z.number().int().min(1).max(65535),
});

export const VmSchema = z
  .object({
    // Stable allocations: never change while the VM exists.
    uid: z.number().int().positive(),
    mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/),
    ipv4: z.string().regex(/^\d+\.\d+\.\d+\.\d+$/),
    displayPort: z.number().int().min(1).max(65535),
    // Settings.
    arch: z.enum(ARCHES),
    cpus: z.number().int().positive(),
    memMiB: z.number().int().positive(),
    driveDevice: z.enum(DRIVE_DEVICES),
    accel: z.enum(['kvm', 'tcg']).nullable(),
    storage: z.enum(STORAGES),
    vg: checked(checkVgName).nullable(),
    /** Size of the main disk. */
    diskMiB: z.number().int().positive(),
    /** Extra disks: volume NAME-DISK, or image file NAME-DISK. */
    disks: z
      .array(z.object({ name: checked(checkDiskName), sizeMiB: z.number().int().positive() }).strict())
      .refine((ds) => new Set(ds.map((d) => d.name)).size === ds.length, 'a disk name is given twice'),
    imageFormat: z.enum(IMAGE_FORMATS),
    /** The golden image the main disk is a linked clone of (image storage). */
    base: checked(checkImageName).nullable(),
    sshKeys: z.array(checked(checkSshKey)),
    net: z.object({
      user: z.boolean(),
      public: z.boolean(),
      private: z.boolean(),
      groups: z.array(z.number().int().min(1).max(9999)).max(MAX_GROUPS),
    }),
    forward4: z.array(Forward4Schema).refine(
      (fs) => new Set(fs.map((f) => `${f.proto}/${f.external}`)).size === fs.length,
      'a host port is forwarded twice',
    ),
    open6: z.array(Open6Schema),
    boot: z.object({
      kernel: checked(checkBootPath).nullable(),
      initrd: checked(checkBootPath).nullable(),
      append: checked(checkAppend).nullable(),
    }),
  })
  .strict();

const VmName = checked(checkVmName);

export type Vm = z.infer<typeof VmSchema>;

const StateSchema = z
  .object({
    version: z.literal(STATE_VERSION),
    vms: z.record(VmName, VmSchema),
    /**
     * VMs whose removal has begun: their host entries stay kib's until a reconcile has
     * removed them, so a crash half-way through `remove` cannot orphan them.
     */
    removing: z.record(VmName, z.object({ uid: z.number().int().positive() }).strict()),
    /**
     * Image files kib made for a VM and kept when the VM went (remove without --purge, or
     * a disk dropped from its list): a VM created again under that name takes them over;
     * no other file at a disk's path is ever taken over or deleted.
     */
    keptDisks: z
      .record(z.string().regex(/^\/[^\0]*$/), z.object({ vm: VmName, base: checked(checkImageName).nullable() }).strict())
      .default({}),
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

/** Parses state text: a sealed file as it is, any other validated in full. */
export function parseState(content: string, file: string = HOST.state): State {
  const { json, sealed } = openState(content, file);
  return sealed ? (json as State) : validateState(json, file);
}

/** A path into the state as a reader would write it: vms.web.cpus, removing["a b"]. */
function formatPath(path: PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `.${p}` : /^[A-Za-z_$][\w$]*$/.test(String(p)) ? `${i === 0 ? '' : '.'}${String(p)}` : `[${JSON.stringify(String(p))}]`))
    .join('');
}

/** Full validation against the schema, plus the rules a schema cannot say. */
export function validateState(json: unknown, file: string = HOST.state): State {
  const result = StateSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    // A bad record key carries the key's own problem one level down.
    const detail = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new KibError('state', `${file} is invalid at ${formatPath(issue.path) || 'top level'}: ${detail}`);
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
