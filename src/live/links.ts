// Bridges and taps, as the interfaces files describe them: each bridge up with its
// addresses, each VM's tap owned by the VM's user, enslaved to its bridge, up, and
// isolated where the bridge is. Taps and group bridges kib no longer needs are deleted.
import type { HostConfig } from '../model/config.ts';
import { formatIpv4, formatIpv6 } from '../model/net.ts';
import type { State } from '../model/state.ts';
import { groupBridgeOf, groupTapOf, PRIVATE_BRIDGE, privateTapOf, PUBLIC_BRIDGE, publicTapOf, userOf } from '../model/vm.ts';
import { groupAddress6 } from '../resources/network.ts';
import { must, type LiveAction } from './action.ts';

interface BridgeSpec {
  name: string;
  addresses: string[];
}

interface TapSpec {
  name: string;
  uid: number;
  user: string;
  bridge: string;
  isolated: boolean;
}

/** A link as `ip -j -d link show` reports it, reduced to what kib checks. */
export interface Link {
  name: string;
  kind?: string;
  up: boolean;
  master?: string;
  /** A tap's owner: a uid, or a user name when the host can resolve it. */
  owner?: number | string;
  isolated?: boolean;
  addresses: string[];
}

/** Names of taps kib makes; anything else is never touched. */
const KIB_TAP = /^(kpu|kpr|kg\d)-/;
/** Every bridge kib makes; only a teardown, which wants none, finds kpu and kpr stale. */
const KIB_BRIDGE = /^(kpu|kpr|kgr\d+)$/;

/** The bridges and taps the configuration and state call for. */
export function desiredLinks(config: HostConfig, state: State): { bridges: BridgeSpec[]; taps: TapSpec[] } {
  const v6 = (net?: { host: number[]; prefix: number }) => (net ? [`${formatIpv6(net.host)}/${net.prefix}`] : []);
  const groups = [...new Set(Object.values(state.vms).flatMap((vm) => vm.net.groups))].sort((a, b) => a - b);
  const bridges: BridgeSpec[] = [
    { name: PUBLIC_BRIDGE, addresses: [`${formatIpv4(config.public4.host)}/${config.public4.prefix}`, ...v6(config.public6)] },
    { name: PRIVATE_BRIDGE, addresses: v6(config.private6) },
    ...groups.map((id) => ({ name: groupBridgeOf(id), addresses: config.group6 ? [groupAddress6(config.group6, id)] : [] })),
  ];
  const taps: TapSpec[] = [];
  for (const name of Object.keys(state.vms).sort()) {
    const vm = state.vms[name];
    const tap = (tapName: string, bridge: string, isolated: boolean) =>
      taps.push({ name: tapName, uid: vm.uid, user: userOf(name), bridge, isolated });
    if (vm.net.public) tap(publicTapOf(name), PUBLIC_BRIDGE, true);
    if (vm.net.private) tap(privateTapOf(name), PRIVATE_BRIDGE, true);
    vm.net.groups.forEach((id, i) => tap(groupTapOf(name, i), groupBridgeOf(id), false));
  }
  return { bridges, taps };
}

/** Reads every link of the current network namespace. */
export async function readLinks(): Promise<Map<string, Link>> {
  type IpLink = {
    ifname: string;
    flags?: string[];
    master?: string;
    linkinfo?: { info_kind?: string; info_data?: { user?: number | string }; info_slave_data?: { isolated?: boolean } };
  };
  type IpAddr = { ifname: string; addr_info?: { local: string; prefixlen: number }[] };
  const links = JSON.parse(await must('ip', ['-j', '-d', 'link', 'show'])) as IpLink[];
  const addrs = JSON.parse(await must('ip', ['-j', 'addr', 'show'])) as IpAddr[];
  const addressesOf = new Map(addrs.map((a) => [a.ifname, (a.addr_info ?? []).map((i) => `${i.local}/${i.prefixlen}`)]));
  return new Map(
    links.map((l) => [
      l.ifname,
      {
        name: l.ifname,
        kind: l.linkinfo?.info_kind,
        up: (l.flags ?? []).includes('UP'),
        master: l.master,
        owner: l.linkinfo?.info_data?.user,
        isolated: l.linkinfo?.info_slave_data?.isolated,
        addresses: addressesOf.get(l.ifname) ?? [],
      },
    ]),
  );
}

/** The actions that bring the links to the desired ones. */
export function planLinks(desired: ReturnType<typeof desiredLinks>, links: Map<string, Link>): LiveAction[] {
  const actions: LiveAction[] = [];
  for (const bridge of desired.bridges) {
    const link = links.get(bridge.name);
    const missing = bridge.addresses.filter((a) => !link?.addresses.includes(a));
    const addAddresses = async () => {
      for (const a of missing) await must('ip', ['addr', 'add', a, 'dev', bridge.name]);
      await must('ip', ['link', 'set', 'dev', bridge.name, 'up']);
    };
    if (!link) {
      actions.push({
        verb: 'create',
        object: `bridge ${bridge.name}${bridge.addresses.length ? ` (${bridge.addresses.join(', ')})` : ''}`,
        apply: async () => {
          await must('ip', ['link', 'add', 'name', bridge.name, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
          await addAddresses();
        },
      });
    } else if (link.kind !== 'bridge') {
      actions.push(conflict(`bridge ${bridge.name}`, `${bridge.name} exists and is not a bridge`));
    } else if (missing.length > 0 || !link.up) {
      const what = [...missing.map((a) => `add ${a}`), ...(link.up ? [] : ['up'])].join(', ');
      actions.push({ verb: 'update', object: `bridge ${bridge.name} (${what})`, apply: addAddresses });
    }
  }
  for (const tap of desired.taps) actions.push(...planTap(tap, links.get(tap.name)));
  // What kib made and no longer needs: taps before the bridges they are ports of.
  const wanted = new Set([...desired.bridges.map((b) => b.name), ...desired.taps.map((t) => t.name)]);
  const stale = [...links.values()].filter((l) => !wanted.has(l.name));
  const remove = (kind: string, link: Link): LiveAction => ({
    verb: 'delete',
    object: `${kind} ${link.name}`,
    apply: () => must('ip', ['link', 'delete', 'dev', link.name]).then(() => undefined),
  });
  for (const link of stale) if (link.kind === 'tun' && KIB_TAP.test(link.name)) actions.push(remove('tap', link));
  for (const link of stale) if (link.kind === 'bridge' && KIB_BRIDGE.test(link.name)) actions.push(remove('bridge', link));
  return actions;
}

function planTap(tap: TapSpec, link: Link | undefined): LiveAction[] {
  const describe = `tap ${tap.name} (${tap.user}, bridge ${tap.bridge}${tap.isolated ? ', isolated' : ''})`;
  const attach = async () => {
    await must('ip', ['link', 'set', 'dev', tap.name, 'master', tap.bridge, 'up']);
    await must('bridge', ['link', 'set', 'dev', tap.name, 'isolated', tap.isolated ? 'on' : 'off']);
  };
  const create = async () => {
    await must('ip', ['tuntap', 'add', 'dev', tap.name, 'mode', 'tap', 'user', String(tap.uid), 'group', String(tap.uid)]);
    await attach();
  };
  if (!link) return [{ verb: 'create', object: describe, apply: create }];
  if (link.kind !== 'tun') return [conflict(describe, `${tap.name} exists and is not a tap`)];
  if (link.owner !== tap.uid && link.owner !== tap.user) {
    // A tap's owner is set when it is made: a wrong one means making it again.
    return [{ verb: 'update', object: `${describe}: owner was ${link.owner ?? 'nobody'}`, apply: async () => {
      await must('ip', ['link', 'delete', 'dev', tap.name]);
      await create();
    } }];
  }
  if (link.master !== tap.bridge || !link.up || link.isolated !== tap.isolated) return [{ verb: 'update', object: describe, apply: attach }];
  return [];
}

/** An action that can only fail: the host has something in the way that kib must not remove. */
function conflict(object: string, reason: string): LiveAction {
  return { verb: 'update', object, apply: () => Promise.reject(new Error(reason)) };
}
