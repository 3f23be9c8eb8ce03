// Starting, stopping and querying a VM through its own user's systemd instance: the unit
// kib-NAME.service lives in the user manager of kib-NAME, so every action is
// `systemctl --user` run as that user with its runtime directory. The user manager runs on
// the live host whatever --root says: --root only tells kib where the VM's state is.
import { existsSync } from 'node:fs';
import type { Context } from '../context.ts';
import { KibError } from '../errors.ts';
import { run } from '../exec.ts';
import { loadConfig } from '../model/config.ts';
import { getVm } from '../model/state.ts';
import { loadState } from '../model/store.ts';
import { checkVmName } from '../model/validate.ts';
import { userOf } from '../model/vm.ts';
import { HOST } from '../paths.ts';
import { unitOf } from '../resources/systemd.ts';

/** What it takes to reach a VM's unit: its user, uid and that user's runtime directory. */
export interface VmRuntime {
  name: string;
  user: string;
  uid: number;
  unit: string;
  /** The user's runtime directory on the live host (systemd's %t in the VM's unit). */
  runtimeDir: string;
}

export type PowerAction = 'start' | 'stop' | 'restart' | 'kill';

/** The unit's state as `systemctl show` reports it. */
export interface UnitStatus {
  name: string;
  unit: string;
  running: boolean;
  /** For people: running, starting, restarting, stopping or not running. */
  summary: string;
  loadState: string;
  activeState: string;
  subState: string;
  result: string;
  mainPid: number | null;
  /** When the unit entered its current state (ISO 8601, UTC); null if it never ran. */
  since: string | null;
}

/** The user's runtime directory on the live host: /run/user/UID. */
export const userRuntimeDirOf = (uid: number) => `${HOST.userRuntimeBase}/${uid}`;

/** Finds a VM in the state; an unknown name is an error before anything runs. */
export async function vmRuntime(ctx: Context, name: string): Promise<VmRuntime> {
  const problem = checkVmName(name);
  if (problem) throw new KibError('usage', problem);
  const config = await loadConfig(ctx.root);
  const { state } = await loadState(ctx.root, config);
  const vm = getVm(state, name);
  return { name, user: userOf(name), uid: vm.uid, unit: unitOf(name), runtimeDir: userRuntimeDirOf(vm.uid) };
}

/**
 * The user manager listens on its private socket (and on the D-Bus socket when
 * dbus-user-session is installed); without either, systemctl --user has nothing to talk to.
 */
export function checkUserManager(vm: VmRuntime): void {
  if (existsSync(`${vm.runtimeDir}/systemd/private`) || existsSync(`${vm.runtimeDir}/bus`)) return;
  throw managerDown(vm, `no ${vm.runtimeDir}/systemd/private`);
}

/** The error for a user manager that is not there, with what showed it and how to start it. */
function managerDown(vm: VmRuntime, why: string): KibError {
  return new KibError('system', `VM ${vm.name}: the systemd user manager of ${vm.user} is not running (${why}); 'kib apply' or 'loginctl enable-linger ${vm.user}' starts it`);
}

/**
 * The command that runs `systemctl --user ARGS` as the VM's user: setpriv switches to its
 * uid and gid (kib gives each VM user a group of the same id) without a login session,
 * and the environment is only what systemctl needs, nothing of root's. A process that is
 * the VM's user already (its console) runs systemctl itself. `selfUid` is this process's.
 */
export function systemctlCommand(vm: VmRuntime, args: string[], selfUid = process.getuid?.()): { file: string; args: string[]; env: Record<string, string> } {
  const systemctl = ['systemctl', '--user', '--no-pager', ...args];
  return {
    file: selfUid === vm.uid ? systemctl[0] : 'setpriv',
    args: selfUid === vm.uid ? systemctl.slice(1) : [`--reuid=${vm.uid}`, `--regid=${vm.uid}`, '--clear-groups', '--', ...systemctl],
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      XDG_RUNTIME_DIR: vm.runtimeDir,
      SYSTEMD_PAGER: 'cat',
      SYSTEMD_COLORS: '0',
      LC_ALL: 'C.UTF-8',
    },
  };
}

/** Runs systemctl --user as the VM's user; a failure is one line naming the VM and systemctl's complaint. */
export async function systemctl(vm: VmRuntime, what: string, args: string[]): Promise<string> {
  const command = systemctlCommand(vm, args);
  const r = await run(command.file, command.args, { env: command.env, onlyEnv: true });
  if (r.exitCode !== 0) {
    const first = r.stderr.split('\n').find((line) => line.trim() !== '')?.trim() ?? `exit status ${r.exitCode}`;
    // Its socket is there but nothing answers: the manager is stopping or gone.
    if (/^Failed to connect to .*bus/i.test(first)) throw managerDown(vm, first);
    throw new KibError('system', `VM ${vm.name}: cannot ${what}: ${first}`);
  }
  return r.stdout;
}

const SHOWN = ['LoadState', 'ActiveState', 'SubState', 'Result', 'MainPID', 'StateChangeTimestamp'];

/** Reads the unit's state from `systemctl show` (timestamps as @SECONDS, so no locale or zone parsing). */
export async function unitStatus(vm: VmRuntime): Promise<UnitStatus> {
  const text = await systemctl(vm, 'read its state', ['show', `--property=${SHOWN.join(',')}`, '--timestamp=unix', vm.unit]);
  return parseShow(vm, text);
}

/** Reads `systemctl show` output (KEY=VALUE lines) into a status. */
export function parseShow(vm: Pick<VmRuntime, 'name' | 'unit'>, text: string): UnitStatus {
  const props = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const activeState = props.get('ActiveState') || 'inactive';
  const subState = props.get('SubState') || 'dead';
  const pid = Number(props.get('MainPID'));
  const stamp = /^@(\d+)$/.exec(props.get('StateChangeTimestamp') ?? '');
  const running = activeState === 'active' || activeState === 'reloading';
  return {
    name: vm.name,
    unit: vm.unit,
    running,
    summary: summaryOf(activeState, subState),
    loadState: props.get('LoadState') || 'not-found',
    activeState,
    subState,
    result: props.get('Result') || '',
    mainPid: Number.isInteger(pid) && pid > 0 ? pid : null,
    since: stamp ? new Date(Number(stamp[1]) * 1000).toISOString().replace('.000Z', 'Z') : null,
  };
}

/** The unit's state in the words status prints. */
function summaryOf(active: string, sub: string): string {
  if (active === 'active' || active === 'reloading') return 'running';
  if (active === 'activating') return sub === 'auto-restart' ? 'restarting' : 'starting';
  if (active === 'deactivating') return 'stopping';
  return 'not running';
}

/** Whether the unit has processes or is about to (a stop or kill has something to act on). */
const isUp = (s: UnitStatus) => s.activeState !== 'inactive' && s.activeState !== 'failed';

/** The status as one line per fact. */
export function formatStatus(s: UnitStatus): string[] {
  const lines = [`VM ${s.name} is ${s.summary}`];
  if (s.loadState !== 'loaded') lines.push(`unit:     ${s.unit} is ${s.loadState} in the user manager (kib apply renders and loads it)`);
  const result = s.activeState === 'failed' && s.result && s.result !== 'success' ? `, result: ${s.result}` : '';
  lines.push(`state:    ${s.activeState} (${s.subState})${result}`);
  if (s.mainPid !== null) lines.push(`main PID: ${s.mainPid}`);
  if (s.since) lines.push(`since:    ${s.since}`);
  return lines;
}

/**
 * Starts, stops, restarts or kills the VM and says what happened in one line. A stop or
 * kill of a VM that is not running does nothing and says so; kill is SIGKILL to every
 * process of the unit, then a stop so that Restart=on-failure does not bring it back.
 */
export async function powerVm(ctx: Context, vm: VmRuntime, action: PowerAction): Promise<{ changed: boolean; message: string }> {
  checkUserManager(vm);
  const before = await unitStatus(vm);
  const unchanged = (message: string) => ({ changed: false, message });
  if (action === 'start' && before.running) return unchanged(`VM ${vm.name} is already running`);
  if ((action === 'stop' || action === 'kill') && !isUp(before)) return unchanged(`VM ${vm.name} is not running`);
  if (ctx.dryRun) return unchanged(`would ${action} VM ${vm.name}`);
  if (action === 'kill') {
    await systemctl(vm, 'kill it', ['kill', '--signal=SIGKILL', vm.unit]);
    await systemctl(vm, 'stop it', ['stop', vm.unit]);
    return { changed: true, message: `killed VM ${vm.name}` };
  }
  // A VM that hit the start limit starts again when asked to. A unit the manager has not
  // loaded (a VM never started, or collected since its last stop) has no failed state
  // and no count to clear, and systemctl says so with an error.
  if (action === 'start' || action === 'restart') {
    await systemctl(vm, 'reset it', ['reset-failed', vm.unit]).catch((error: unknown) => {
      if (error instanceof KibError && / not loaded\.?$/.test(error.message)) return '';
      throw error;
    });
  }
  await systemctl(vm, `${action} it`, [action, vm.unit]);
  const done = action === 'restart' ? (isUp(before) ? 'restarted' : 'started') : action === 'start' ? 'started' : 'stopped';
  return { changed: true, message: `${done} VM ${vm.name}` };
}
