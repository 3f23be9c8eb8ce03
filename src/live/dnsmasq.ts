// kib's dnsmasq follows its files: a changed hosts file is re-read on SIGHUP; a changed
// configuration needs a restart, which only the service manager can do.
import { readFile } from 'node:fs/promises';
import { HOST, rooted } from '../paths.ts';
import { run } from '../exec.ts';
import { must, type LiveAction } from './action.ts';

export interface DnsmasqInput {
  root: string;
  systemd: boolean;
  confChanged: boolean;
  hostsChanged: boolean;
  /** `kib teardown`: kib's dnsmasq stops (where systemd runs it). */
  teardown?: boolean;
}

/** The pid in kib's dnsmasq pid file, if that process is a running dnsmasq. */
async function runningPid(root: string): Promise<number | undefined> {
  const pid = Number((await readFile(rooted(root, HOST.dnsmasqPid), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return comm.trim() === 'dnsmasq' ? pid : undefined;
}

export async function planDnsmasq(input: DnsmasqInput): Promise<LiveAction[]> {
  if (input.teardown) {
    // Not active (stopped, or no such unit): nothing to stop.
    if (!input.systemd || (await run('systemctl', ['is-active', '--quiet', HOST.dnsmasqUnit])).exitCode !== 0) return [];
    return [{ verb: 'stop', object: HOST.dnsmasqUnit, apply: () => must('systemctl', ['stop', HOST.dnsmasqUnit]).then(() => undefined) }];
  }
  if (!input.confChanged && !input.hostsChanged) return [];
  if (input.systemd) {
    // restart also starts it on a host where kib's dnsmasq never ran.
    const verb = input.confChanged ? 'restart' : 'reload';
    const command = input.confChanged ? 'restart' : 'reload-or-restart';
    return [{ verb, object: HOST.dnsmasqUnit, apply: () => must('systemctl', [command, HOST.dnsmasqUnit]).then(() => undefined) }];
  }
  const pid = await runningPid(input.root);
  if (pid === undefined) return [];
  if (input.confChanged) {
    return [{ verb: 'restart', object: `dnsmasq (pid ${pid})`, apply: () => Promise.reject(new Error(`dnsmasq (pid ${pid}) runs without systemd: restart it to read ${HOST.dnsmasqConf}`)) }];
  }
  return [{ verb: 'reload', object: `dnsmasq (pid ${pid}): ${HOST.dnsmasqHosts}`, apply: async () => void process.kill(pid, 'SIGHUP') }];
}
