// The IPv6 addresses a VM gets by SLAAC on the bridges it is attached to.
import type { HostConfig } from './config.ts';
import { macFromSeed, slaacAddress } from './net.ts';
import type { Vm } from './vm.ts';

export function net6Of(config: HostConfig, vm: Vm): { public?: string; private?: string } | undefined {
  const out: { public?: string; private?: string } = {};
  if (vm.net.public && config.public6) out.public = slaacAddress(config.public6, vm.mac);
  if (vm.net.private && config.private6) out.private = slaacAddress(config.private6, privateMacOf(vm));
  return out.public || out.private ? out : undefined;
}

/** The MAC of a VM's private NIC, derived from its main one. */
export function privateMacOf(vm: Pick<Vm, 'mac'>): string {
  return macFromSeed(`${vm.mac}/private`);
}
