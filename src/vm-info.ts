// kib info: a VM's settings, its allocations, the addresses it gets and the command line
// its unit runs.
import type { Context } from './context.ts';
import { KibError } from './errors.ts';
import { net6Of } from './model/addresses.ts';
import { loadConfig } from './model/config.ts';
import { getVm } from './model/state.ts';
import { loadState } from './model/store.ts';
import { checkVmName } from './model/validate.ts';
import { userOf, type Vm } from './model/vm.ts';
import { supervisorArgv } from './resources/systemd.ts';
import { homeOf } from './resources/users.ts';
import { diskFilesOf, type DiskFile } from './storage/paths.ts';

export interface VmInfo extends Vm {
  name: string;
  user: string;
  home: string;
  ipv6?: { public?: string; private?: string };
  /** The supervisor command line the VM's unit runs (%t is the user's runtime directory). */
  argv: string[];
  diskFiles: DiskFile[];
}

export async function vmInfo(ctx: Context, name: string): Promise<VmInfo> {
  const problem = checkVmName(name);
  if (problem) throw new KibError('usage', problem);
  const config = await loadConfig(ctx.root);
  const { state } = await loadState(ctx.root, config);
  const vm = getVm(state, name);
  return {
    name,
    user: userOf(name),
    home: homeOf(name),
    ...vm,
    ipv6: net6Of(config, vm),
    argv: supervisorArgv(name, { config, state, facts: {} }),
    diskFiles: diskFilesOf(name, vm, config),
  };
}

export function formatInfo(info: VmInfo): string[] {
  const nets = (['user', 'public', 'private'] as const).filter((n) => info.net[n]);
  const lines = [
    `name:         ${info.name}`,
    `user:         ${info.user} (uid ${info.uid})`,
    `home:         ${info.home}`,
    `cpus:         ${info.cpus}`,
    `memory:       ${info.memMiB} MiB`,
    `accelerator:  ${info.accel ?? 'host default'}`,
    `drive device: ${info.driveDevice}`,
    `storage:      ${info.storage}${info.base ? ` (linked clone of ${info.base})` : ''}`,
    ...info.diskFiles.map((d) => `disk:         ${d.file} (${d.sizeMiB} MiB${d.disk ? `, ${d.disk}` : ''})`),
    `networks:     ${[...nets, ...info.net.groups.map((g) => `group ${g}`)].join(', ') || 'none'}`,
    `MAC:          ${info.mac}`,
    `IPv4:         ${info.ipv4}`,
  ];
  if (info.ipv6?.public) lines.push(`IPv6:         ${info.ipv6.public}`);
  if (info.ipv6?.private) lines.push(`IPv6 private: ${info.ipv6.private}`);
  lines.push(
    `forwards:     ${info.forward4.map((f) => `${f.proto} host:${f.external} -> ${f.internal}`).join(', ') || 'none'}`,
    `open IPv6:    ${info.open6.map((o) => `${o.proto}/${o.port}`).join(', ') || 'none'}`,
    `display port: ${info.displayPort}`,
    `ssh keys:     ${info.sshKeys.length}`,
  );
  return lines;
}
