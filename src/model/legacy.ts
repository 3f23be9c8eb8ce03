// Migration from the state file of the original kvm-in-a-box (var/lib/kib/state):
// a header line 'kvm-in-a-box state format: v4.1' and one JSON object.
import { readFile } from 'node:fs/promises';
import { KibError } from '../errors.ts';
import { parseColonDb, findEntry } from '../formats/colon-db.ts';
import { HOST, rooted } from '../paths.ts';
import { emptyState, type State } from './state.ts';
import { DEFAULT_SETTINGS, DRIVE_DEVICES, userOf, type Vm } from './vm.ts';
import { checkVmName, normalizeSshKey } from './validate.ts';

const HEADER = /^kvm-in-a-box state format: v4(\.\d+)?$/;

type Json = Record<string, unknown>;

/** Reads a legacy state file under root, or undefined if there is none. */
export async function readLegacyState(root: string): Promise<Json | undefined> {
  let content: string;
  try {
    content = await readFile(rooted(root, HOST.legacyState), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const nl = content.indexOf('\n');
  const header = content.slice(0, nl === -1 ? undefined : nl).trim();
  if (!HEADER.test(header)) {
    throw new KibError('state', `${HOST.legacyState}: unknown format '${header.slice(0, 60)}'; expected 'kvm-in-a-box state format: v4.1'`);
  }
  try {
    return JSON.parse(content.slice(nl + 1)) as Json;
  } catch (error) {
    throw new KibError('state', `${HOST.legacyState} is corrupt (${(error as Error).message})`);
  }
}

/**
 * Converts a legacy state into the current one, keeping every VM's settings, MAC, IPv4
 * and the uid of its existing kib-NAME user (allocated later when there is none: 0 here).
 */
export function migrateLegacyState(legacy: Json, passwdContent: string): State {
  const state = emptyState();
  const passwd = parseColonDb(passwdContent);
  const vms = (legacy.vms ?? {}) as Record<string, Json>;
  const net = (legacy.net ?? {}) as Record<string, [string, string]>;
  const bad = (name: string, what: string) =>
    new KibError('state', `${HOST.legacyState}: VM '${name}': ${what}; fix the file or remove the VM from it`);
  for (const [name, old] of Object.entries(vms)) {
    const problem = checkVmName(name);
    if (problem) throw bad(name, problem);
    const [mac, ipv4] = net[name] ?? [];
    if (typeof mac !== 'string' || typeof ipv4 !== 'string') throw bad(name, 'no MAC and IPv4 in "net"');
    const cfg = (old.cfg ?? {}) as Json;
    const sys = (old.sys_cfg ?? {}) as Json;
    const netCfg = (old.net_cfg ?? {}) as Json;
    const q = (old.q_cfg ?? {}) as Json;
    const uidField = findEntry(passwd, userOf(name))?.[2];
    const drive = String(cfg.drive_device ?? DEFAULT_SETTINGS.driveDevice);
    const vm: Vm = {
      ...DEFAULT_SETTINGS,
      uid: uidField && /^\d+$/.test(uidField) ? Number(uidField) : 0,
      mac: mac.toLowerCase(),
      ipv4,
      displayPort: 0,
      arch: 'x86_64',
      cpus: Number(q.cpus ?? DEFAULT_SETTINGS.cpus),
      memMiB: Number(q.mem ?? DEFAULT_SETTINGS.memMiB),
      driveDevice: (DRIVE_DEVICES as readonly string[]).includes(drive)
        ? (drive as Vm['driveDevice'])
        : drive === 'virtio'
          ? 'virtio-blk-pci'
          : DEFAULT_SETTINGS.driveDevice,
      // The original kept every disk on LVM; volume sizes live in LVM, not in its state.
      storage: typeof sys.vg === 'string' ? 'lvm' : 'none',
      vg: typeof sys.vg === 'string' ? sys.vg : null,
      disks: asArray(sys.add_disks).map((d) => ({ name: String(d), sizeMiB: DEFAULT_SETTINGS.diskMiB })),
      sshKeys: asArray(sys.authorized_keys).map((k) => normalizeSshKey(String(k))),
      net: {
        user: Boolean(netCfg.user_if),
        public: Boolean(netCfg.public_if),
        private: Boolean(netCfg.private_if),
        groups: asArray(netCfg.group_ifs).map((g) => Number(typeof g === 'object' && g ? Object.values(g)[0] : g)),
      },
      forward4: asArray(netCfg.forwarded_ports4).map((f) => {
        const [proto, ports] = f as [string, [number, number]];
        return { proto: proto as 'tcp' | 'udp', internal: Number(ports[0]), external: Number(ports[1]) };
      }),
      open6: asArray(netCfg.open_ports6).map((o) => {
        const [proto, port] = o as [string, number];
        return { proto: proto as 'tcp' | 'udp', port: Number(port) };
      }),
    };
    state.vms[name] = vm;
  }
  return state;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
