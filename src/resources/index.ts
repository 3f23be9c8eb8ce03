// Every host resource kib renders, in the order they are applied: users and groups
// first, so that files owned by VM users find their owners.
import type { Resource } from '../engine/resource.ts';
import type { Vm } from '../model/vm.ts';
import type { Desired } from './desired.ts';
import { networkResources } from './network.ts';
import { sshResources } from './ssh.ts';
import { systemdResources } from './systemd.ts';
import { userResources } from './users.ts';

export function allResources(d: Desired): Resource[] {
  return [...userResources(d), ...sshResources(d), ...networkResources(d), ...systemdResources(d)];
}

/**
 * The VM fields host-wide resources read (users, firewall, bridges, dnsmasq, udev, sshd). A
 * command on one VM that changes none of them leaves every host-wide file as it is, so it
 * plans only the VM's own resources; `kib apply` plans everything. A test checks that no
 * other field reaches a host-wide file.
 */
export function hostInputsOf(vm: Vm | undefined): string {
  if (!vm) return '';
  const { uid, mac, ipv4, displayPort, net, forward4, open6, storage, vg, disks } = vm;
  return JSON.stringify({ uid, mac, ipv4, displayPort, net, forward4, open6, storage, vg, disks: disks.map((d) => d.name) });
}
