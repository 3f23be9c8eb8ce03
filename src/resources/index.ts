// Every host resource kib renders, in the order they are applied: users and groups
// first, so that files owned by VM users find their owners.
import type { Resource } from '../engine/resource.ts';
import type { Desired } from './desired.ts';
import { networkResources } from './network.ts';
import { sshResources } from './ssh.ts';
import { systemdResources } from './systemd.ts';
import { userResources } from './users.ts';

export function allResources(d: Desired): Resource[] {
  return [...userResources(d), ...sshResources(d), ...networkResources(d), ...systemdResources(d)];
}
