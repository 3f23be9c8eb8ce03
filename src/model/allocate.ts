// Stable allocations for a new VM: uid, MAC, IPv4 and display port. A value is never one
// in use, and a freed one is handed out again only once fresh ones have run out.
import { KibError } from '../errors.ts';
import type { HostConfig } from './config.ts';
import { formatIpv4, isAssignable, macFromSeed, parseIpv4 } from './net.ts';
import type { State } from './state.ts';
import type { Vm } from './vm.ts';

/** Ids already taken on the host: every uid in passwd and gid in group, system or not. */
export interface TakenIds {
  uids: Set<number>;
  gids: Set<number>;
}

export type Allocation = Pick<Vm, 'uid' | 'mac' | 'ipv4' | 'displayPort'>;

/**
 * Picks the next free value after `cursor` in [first, last], wrapping around once. A
 * cursor pointing past the range (or none) starts from the first value.
 */
export function nextFree(first: number, last: number, cursor: number | null, taken: (n: number) => boolean): number | undefined {
  const size = last - first + 1;
  const start = cursor === null || cursor < first || cursor >= last ? 0 : cursor - first + 1;
  for (let i = 0; i < size; i++) {
    const n = first + ((start + i) % size);
    if (!taken(n)) return n;
  }
  return undefined;
}

/** Allocates everything a new VM needs and advances the state's cursors. */
export function allocate(state: State, config: HostConfig, name: string, taken: TakenIds): Allocation {
  const vms = Object.values(state.vms);
  const removing = Object.values(state.removing);
  const uid = allocateUid(state, config, taken, new Set([...vms, ...removing].map((v) => v.uid)));
  return {
    uid,
    // Seeded with the fresh uid too, so that a VM created again under an old name gets a fresh MAC.
    mac: allocateMac(`${name}/${uid}`, new Set(vms.map((v) => v.mac))),
    ipv4: allocateIpv4(state, config, new Set(vms.map((v) => v.ipv4))),
    displayPort: allocateDisplayPort(state, config, new Set(vms.map((v) => v.displayPort))),
  };
}

export function allocateUid(state: State, config: HostConfig, taken: TakenIds, ours: Set<number>): number {
  const [first, last] = config.uidRange;
  const uid = nextFree(first, last, state.cursors.uid, (n) => taken.uids.has(n) || taken.gids.has(n) || ours.has(n));
  if (uid === undefined) throw new KibError('exhausted', `no free uid left in uid-range ${first}-${last}`);
  state.cursors.uid = uid;
  return uid;
}

export function allocateMac(seed: string, used: Set<string>): string {
  for (let i = 0; ; i++) {
    const mac = macFromSeed(i === 0 ? seed : `${seed}/${i}`);
    if (!used.has(mac)) return mac;
  }
}

export function allocateIpv4(state: State, config: HostConfig, used: Set<string>): string {
  const net = config.public4;
  const cursor = state.cursors.ipv4 === null ? null : (parseIpv4(state.cursors.ipv4) ?? null);
  const ip = nextFree(net.network + 1, net.broadcast - 1, cursor, (n) => !isAssignable(net, n) || used.has(formatIpv4(n)));
  if (ip === undefined) throw new KibError('exhausted', `no free IPv4 address left in public-address ${config.public4Text}`);
  state.cursors.ipv4 = formatIpv4(ip);
  return formatIpv4(ip);
}

export function allocateDisplayPort(state: State, config: HostConfig, used: Set<number>): number {
  const [first, last] = config.displayPorts;
  const port = nextFree(first, last, state.cursors.displayPort, (n) => used.has(n));
  if (port === undefined) throw new KibError('exhausted', `no free port left in display-ports ${first}-${last}`);
  state.cursors.displayPort = port;
  return port;
}
