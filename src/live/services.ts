// The services pick up kib's files: sshd re-reads its configuration, udev its rules and
// re-applies them to block devices (volume owners), each running VM user manager re-reads
// its units, a new VM user's manager starts (what its linger file asks for at boot), and a
// removed VM's manager stops, which powers its VM off.
import { existsSync } from 'node:fs';
import { HOST } from '../paths.ts';
import { userOf } from '../model/vm.ts';
import { must, type LiveAction } from './action.ts';

export interface ServicesInput {
  /** Host paths of the files this run created, updated or deleted. */
  changed: Set<string>;
  /** uids of the VMs that exist, and of the VMs this run removed. */
  vms: Record<string, number>;
  removed: Record<string, number>;
}

const unitFiles = (name: string) => [`${HOST.userUnitDir}/kib-${name}.service`, `${HOST.userUnitDir}/kib-${name}-install@.service`];
const managerOf = (uid: number) => `user@${uid}.service`;
/** Whether a user's systemd instance runs: its private socket exists. */
const managerRuns = (uid: number) => existsSync(`${HOST.userRuntimeBase}/${uid}/systemd/private`);

/** Only on a host where systemd is PID 1 (the caller checks). */
export function planServices(input: ServicesInput): LiveAction[] {
  const actions: LiveAction[] = [];
  // sshd reads its configuration when it starts and when it reloads: the running one
  // reloads, so that kib's block (the VM owners' keys and console) applies to the next login.
  if (input.changed.has(HOST.sshdConfig) && existsSync(HOST.sshdPid)) {
    actions.push({
      verb: 'reload',
      object: `sshd (${HOST.sshUnit}, ${HOST.sshdConfig})`,
      apply: () => must('systemctl', ['reload', HOST.sshUnit]).then(() => undefined),
    });
  }
  if (input.changed.has(HOST.udevRules) && existsSync(HOST.udevControl)) {
    actions.push({
      verb: 'reload',
      object: `udev rules (${HOST.udevRules}), block devices re-triggered`,
      apply: async () => {
        await must('udevadm', ['control', '--reload']);
        await must('udevadm', ['trigger', '--action=change', '--subsystem-match=block']);
      },
    });
  }
  for (const [name, uid] of Object.entries(input.vms)) {
    const user = userOf(name);
    const linger = `${HOST.lingerDir}/${user}`;
    if (input.changed.has(linger) && !managerRuns(uid)) {
      actions.push({ verb: 'start', object: `${managerOf(uid)} (${user}'s systemd)`, apply: () => must('systemctl', ['start', managerOf(uid)]).then(() => undefined) });
    } else if (unitFiles(name).some((f) => input.changed.has(f)) && managerRuns(uid)) {
      actions.push({
        verb: 'reload',
        object: `${user}'s systemd units (daemon-reload)`,
        apply: () => must('runuser', ['-u', user, '--', 'env', `XDG_RUNTIME_DIR=${HOST.userRuntimeBase}/${uid}`, 'systemctl', '--user', 'daemon-reload']).then(() => undefined),
      });
    }
  }
  for (const [name, uid] of Object.entries(input.removed)) {
    if (!existsSync(`${HOST.userRuntimeBase}/${uid}`)) continue;
    actions.push({ verb: 'stop', object: `${managerOf(uid)} (removed VM ${name})`, apply: () => must('systemctl', ['stop', managerOf(uid)]).then(() => undefined) });
  }
  return actions;
}
