// After a reconcile has put the files in place, the running host follows them: kernel
// settings, bridges and taps, the firewall, dnsmasq and the service managers. Each step
// observes the host first and acts only where it differs, so a second run does nothing.
// A failure is reported and the next step still runs; the files stay as they are, and
// the command fails at the end saying how many live changes did not happen.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Context } from '../context.ts';
import type { Change } from '../engine/resource.ts';
import { KibError } from '../errors.ts';
import type { HostConfig } from '../model/config.ts';
import type { State } from '../model/state.ts';
import { HOST, rooted } from '../paths.ts';
import { describeAction, type LiveAction } from './action.ts';
import { planDnsmasq } from './dnsmasq.ts';
import { planFirewall } from './firewall.ts';
import { desiredLinks, planLinks, readLinks } from './links.ts';
import { planServices } from './services.ts';
import { planSysctl } from './sysctl.ts';

export interface LiveInput {
  config: HostConfig;
  state: State;
  /** The file changes of this run (planned ones in a dry run). */
  changes: Change[];
  /** VMs this run removed, with their uids. */
  removed: Record<string, { uid: number }>;
  /**
   * `kib teardown`: kib's bridges and firewall rules go and its dnsmasq stops. Kernel
   * settings stay as they are: forwarding may be in use by others.
   */
  teardown?: boolean;
}

/** Brings the running host to the files; returns the report lines of what it did. */
export async function reconcileLive(ctx: Context, input: LiveInput): Promise<string[]> {
  const { config, state, changes, teardown = false } = input;
  const changed = new Set(changes.filter((c) => c.action !== 'unchanged').map((c) => c.resource.path));
  const sysctlText = async () => {
    const planned = changes.find((c) => c.resource.path === HOST.sysctl);
    return planned ? (planned.after ?? '') : await readFile(rooted(ctx.root, HOST.sysctl), 'latin1').catch(() => '');
  };
  const systemd = existsSync(HOST.systemdRun);
  const uids = (vms: Record<string, { uid: number }>) => Object.fromEntries(Object.entries(vms).map(([n, v]) => [n, v.uid]));
  const steps: [string, () => Promise<LiveAction[]>][] = [
    ['kernel settings', async () => (teardown ? [] : planSysctl(await sysctlText()))],
    ['links', async () => planLinks(teardown ? { bridges: [], taps: [] } : desiredLinks(config, state), await readLinks())],
    ['IPv4 firewall', () => planFirewall({ config, state, facts: {} }, 4, teardown)],
    ['IPv6 firewall', () => planFirewall({ config, state, facts: {} }, 6, teardown)],
    ['dnsmasq', () => planDnsmasq({ root: ctx.root, systemd, teardown, confChanged: changed.has(HOST.dnsmasqConf), hostsChanged: changed.has(HOST.dnsmasqHosts) })],
    ['services', async () => (systemd ? planServices({ changed, vms: uids(state.vms), removed: uids(input.removed) }) : [])],
  ];
  const show = ctx.verbosity !== 'quiet' && !ctx.json;
  const done: string[] = [];
  const failures: string[] = [];
  const fail = (line: string) => {
    failures.push(line);
    ctx.err(line);
  };
  for (const [what, plan] of steps) {
    let actions: LiveAction[];
    try {
      actions = await plan();
    } catch (error) {
      fail(`live: cannot read the host's ${what}: ${(error as Error).message}`);
      continue;
    }
    for (const action of actions) {
      if (!ctx.dryRun) {
        try {
          await action.apply();
        } catch (error) {
          fail(`live: failed to ${action.verb} ${action.object}: ${(error as Error).message}`);
          continue;
        }
      }
      const line = describeAction(action, ctx.dryRun);
      done.push(line);
      if (show) ctx.out(line);
    }
  }
  if (failures.length > 0) {
    const count = failures.length === 1 ? 'a live change' : `${failures.length} live changes`;
    throw new KibError('system', `${count} did not happen (see above); the files are in place: fix the cause and run 'kib apply'`);
  }
  return done;
}
