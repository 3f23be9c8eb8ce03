// What every resource derives from: the host config, the state and a few facts read off
// the host before planning.
import type { HostConfig } from '../model/config.ts';
import type { State } from '../model/state.ts';
import { userOf } from '../model/vm.ts';

export interface HostFacts {
  /** gid of the 'shadow' group, if the host has one. */
  shadowGid?: number;
  /** The Debian package is installed: the group kib is the package's (its purge removes it). */
  packaged?: boolean;
}

export interface Desired {
  config: HostConfig;
  state: State;
  facts: HostFacts;
  /**
   * `kib teardown`: every host-wide file without kib's part (kib's own files absent,
   * shared ones with kib's entries removed). Only valid with no VMs.
   */
  teardown?: boolean;
}

/** User names kib owns: its live VMs' and those of VMs whose removal is not finished. */
export function ownedUsers(state: State): Set<string> {
  return new Set([...Object.keys(state.vms), ...Object.keys(state.removing)].map(userOf));
}

/** Live VMs sorted by name. */
export function liveVms(state: State) {
  return Object.keys(state.vms)
    .sort()
    .map((name) => ({ name, vm: state.vms[name] }));
}
