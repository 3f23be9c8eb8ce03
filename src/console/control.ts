// How the console acts on its VM. In production that is the VM user's own systemd
// instance: the unit kib-NAME.service and the installer units kib-NAME-install@*.service,
// through `systemctl --user` run as this very user (src/runtime/user-manager.ts). The
// interface is the seam for a host without a user manager (direct.ts), which only root
// can choose, on kib-console's command line.
import type { Context } from '../context.ts';
import { KibError } from '../errors.ts';
import { installUnitOf } from '../resources/systemd.ts';
import { checkUserManager, formatStatus, powerVm, systemctl, unitStatus, type PowerAction, type VmRuntime } from '../runtime/user-manager.ts';
import type { Self } from './identity.ts';
import { monitorCommand, monitorSocketOf } from './monitor.ts';

/** The VM's state for people and for the console's own checks. */
export interface VmState {
  /** The guest runs. */
  running: boolean;
  /** The VM has processes or is about to (starting, stopping, restarting). */
  up: boolean;
  /** One word: running, starting, restarting, stopping or not running. */
  summary: string;
  /** One line per fact, the first saying whether it runs. */
  lines: string[];
}

/** One installer unit the user manager knows. */
export interface InstallRun {
  unit: string;
  /** auto, or the preseed file's name as systemd escapes it. */
  instance: string;
  /** active, activating, deactivating, failed or inactive. */
  activeState: string;
  subState: string;
}

export interface VmControl {
  state(): Promise<VmState>;
  /** start, stop (ACPI), restart (ACPI power-off, then start) or kill; the result in one line. */
  power(action: PowerAction): Promise<string>;
  /** Hard reset: the guest starts again at once, without shutting down. */
  reset(): Promise<string>;
  /** Whether the VM starts at boot. */
  autostart(): Promise<boolean>;
  setAutostart(on: boolean): Promise<string>;
  /** The installer units the manager knows (running or failed). */
  installs(): Promise<InstallRun[]>;
  startInstall(instance: string): Promise<void>;
  killInstall(unit: string): Promise<void>;
}

/** The installer unit for an instance: kib-NAME-install@INSTANCE.service. */
export const installUnitFor = (name: string, instance: string) => installUnitOf(name).replace('@.service', `@${instance}.service`);

/** Whether an installer run is under way (or about to be). */
export const installing = (run: InstallRun) => ['active', 'activating', 'deactivating', 'reloading'].includes(run.activeState);

/** Reads `systemctl list-units --plain --no-legend` lines into the VM's installer runs. */
export function parseInstallUnits(name: string, text: string): InstallRun[] {
  const prefix = installUnitOf(name).replace('@.service', '@');
  return text
    .split('\n')
    // A failed unit's line starts with a marker (●) on some versions of systemctl.
    .map((line) => line.trim().replace(/^\S\s+(?=kib-)/, '').split(/\s+/))
    .filter((f) => f.length >= 4 && f[0].startsWith(prefix) && f[0].endsWith('.service'))
    .map((f) => ({ unit: f[0], instance: f[0].slice(prefix.length, -'.service'.length), activeState: f[2], subState: f[3] }));
}

/** The VM's units in its user's systemd instance, which this process talks to as that user. */
export function systemdControl(ctx: Context, self: Self): VmControl {
  const vm: VmRuntime = { name: self.name, user: self.user, uid: self.uid, unit: self.unit, runtimeDir: self.runtimeDir };
  const name = self.name;
  return {
    async state() {
      checkUserManager(vm);
      const s = await unitStatus(vm);
      return { running: s.running, up: !['inactive', 'failed'].includes(s.activeState), summary: s.summary, lines: formatStatus(s) };
    },
    power: async (action) => (await powerVm(ctx, vm, action)).message,
    async reset() {
      // qemu runs with -no-reboot: the reset ends it, and Restart=on-failure starts the VM again.
      await monitorCommand(monitorSocketOf(name, self.runtimeDir), 'system_reset', { endsQemu: true });
      return `reset VM ${name}: it starts again in a few seconds`;
    },
    async autostart() {
      checkUserManager(vm);
      const out = await systemctl(vm, 'read whether it starts at boot', ['show', '--property=UnitFileState', self.unit]);
      return /^UnitFileState=enabled/m.test(out);
    },
    async setAutostart(on) {
      checkUserManager(vm);
      await systemctl(vm, on ? 'make it start at boot' : 'stop it starting at boot', [on ? 'enable' : 'disable', '--quiet', self.unit]);
      return on ? `VM ${name} starts at boot from now on` : `VM ${name} no longer starts at boot`;
    },
    async installs() {
      checkUserManager(vm);
      const out = await systemctl(vm, 'list its installs', ['list-units', '--all', '--plain', '--no-legend', '--full', installUnitFor(name, '*')]);
      return parseInstallUnits(name, out);
    },
    async startInstall(instance) {
      checkUserManager(vm);
      await systemctl(vm, 'start the installer', ['start', installUnitFor(name, instance)]);
    },
    async killInstall(unit) {
      checkUserManager(vm);
      await systemctl(vm, 'kill the installer', ['kill', '--signal=SIGKILL', unit]);
      await systemctl(vm, 'stop the installer', ['stop', unit]);
    },
  };
}

/** What a backend without systemd says to what only systemd can do. */
export function needsSystemd(what: string): never {
  throw new KibError('system', `${what} needs the VM user's systemd instance, which this console does not use`);
}
