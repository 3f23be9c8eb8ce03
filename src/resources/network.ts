// The VM networks: bridges and taps (ifupdown), DHCP/DNS/RA (dnsmasq), the firewall
// (iptables v4/v6) and forwarding (sysctl).
import { BUILTIN_CHAINS, KIB_CHAINS, mergeIptables, removeKibRules, type KibRules } from '../formats/iptables-save.ts';
import { splitLines } from '../formats/lines.ts';
import { formatIpv4, formatIpv6, netmaskOf, prefixGroups, slaacAddress, type Ipv6Net } from '../model/net.ts';
import { HOST } from '../paths.ts';
import { render } from '../templates.ts';
import {
  groupBridgeOf,
  groupTapOf,
  PRIVATE_BRIDGE,
  privateTapOf,
  PUBLIC_BRIDGE,
  publicTapOf,
  userOf,
} from '../model/vm.ts';
import { ROOT_OWNER, type Resource } from '../engine/resource.ts';
import { liveVms, type Desired } from './desired.ts';

/** The public network in CIDR form, e.g. 10.0.0.0/16. */
function publicNet(d: Desired): string {
  return `${formatIpv4(d.config.public4.network)}/${d.config.public4.prefix}`;
}

/** Sorted ids of the group networks in use. */
function groupsInUse(d: Desired): number[] {
  const ids = new Set(liveVms(d.state).flatMap(({ vm }) => vm.net.groups));
  return [...ids].sort((a, b) => a - b);
}

/** The host's address on a group bridge: the group id in the 4th group of the /48, the host part of group-address6. */
export function groupAddress6(net: Ipv6Net, id: number): string {
  const groups = prefixGroups(net.host, 48);
  groups[3] = id;
  return `${formatIpv6([...groups.slice(0, 4), ...net.host.slice(4)])}/64`;
}

/** Turns a rendered rules template (iptables-save lines, chains without policies) into kib's tables. */
export function parseKibRules(rendered: string): KibRules {
  const tables: KibRules = {};
  let current: KibRules[string] | undefined;
  for (const { text } of splitLines(rendered)) {
    const t = text.trim();
    if (t === '') continue;
    if (t.startsWith('*')) {
      const name = t.slice(1);
      current = tables[name] = { builtins: BUILTIN_CHAINS[name] ?? [], chains: [], jumps: [], rules: [] };
    } else if (t.startsWith(':')) {
      if (!KIB_CHAINS.has(t.slice(1))) throw new Error(`template chain ${t.slice(1)} is not one of KIB_CHAINS`);
      current!.chains.push(t.slice(1));
    }
    else if (t.split(/\s+/)[1]?.startsWith('KIB_')) current!.rules.push(t);
    else current!.jumps.push(t);
  }
  return tables;
}

/** Taps of one bridge, as the interfaces template lists them. */
const tapsOf = (vms: ReturnType<typeof liveVms>, pick: (name: string, vm: (typeof vms)[number]['vm']) => string | undefined) =>
  vms.flatMap(({ name, vm }) => {
    const tap = pick(name, vm);
    return tap ? [{ vm: name, tap, user: userOf(name) }] : [];
  });

function renderRulesV4(d: Desired): string {
  const forwards = liveVms(d.state).flatMap(({ vm }) => (vm.net.public ? vm.forward4.map((f) => ({ ...f, ipv4: vm.ipv4 })) : []));
  return render('rules.v4', { publicNet: publicNet(d), upstream: d.config.upstream, bridge: PUBLIC_BRIDGE, forwards });
}

function renderRulesV6(d: Desired): string {
  const { config } = d;
  const opens = config.public6
    ? liveVms(d.state).flatMap(({ vm }) => (vm.net.public ? vm.open6.map((o) => ({ ...o, address: slaacAddress(config.public6!, vm.mac) })) : []))
    : [];
  const bridges = [
    ...(config.public6 ? [PUBLIC_BRIDGE] : []),
    ...(config.private6 ? [PRIVATE_BRIDGE] : []),
    ...(config.group6 ? groupsInUse(d).map(groupBridgeOf) : []),
  ];
  return render('rules.v6', { bridges, public: Boolean(config.public6), upstream: config.upstream, bridge: PUBLIC_BRIDGE, opens });
}

function renderPublicBridge(d: Desired): string {
  return render('interfaces-bridge', {
    description: 'kib public bridge: VMs with --public, routed and masqueraded to the upstream interface.',
    bridge: PUBLIC_BRIDGE,
    address4: d.config.public4Text,
    address6: d.config.text.public6,
    isolated: true,
    taps: tapsOf(liveVms(d.state), (name, vm) => (vm.net.public ? publicTapOf(name) : undefined)),
  });
}

function renderPrivateBridge(d: Desired): string {
  return render('interfaces-bridge', {
    description: 'kib private bridge: VMs with --private reach the host only.',
    bridge: PRIVATE_BRIDGE,
    address6: d.config.text.private6,
    isolated: true,
    taps: tapsOf(liveVms(d.state), (name, vm) => (vm.net.private ? privateTapOf(name) : undefined)),
  });
}

function renderGroupBridges(d: Desired): string | null {
  const ids = groupsInUse(d);
  if (ids.length === 0) return null;
  const vms = liveVms(d.state);
  return ids
    .map((id) =>
      render('interfaces-bridge', {
        description: `kib group network ${id}: its VMs reach each other and the host.`,
        bridge: groupBridgeOf(id),
        address6: d.config.group6 ? groupAddress6(d.config.group6, id) : undefined,
        isolated: false,
        taps: tapsOf(vms, (name, vm) => {
          const i = vm.net.groups.indexOf(id);
          return i === -1 ? undefined : groupTapOf(name, i);
        }),
      }),
    )
    .join('\n');
}

function renderDnsmasq(d: Desired): string {
  const { config } = d;
  return render('dnsmasq.conf', {
    domain: config.domain,
    publicNet: publicNet(d),
    hostsFile: HOST.dnsmasqHosts,
    publicBridge: PUBLIC_BRIDGE,
    publicNetwork: formatIpv4(config.public4.network),
    publicNetmask: netmaskOf(config.public4.prefix),
    publicHost: formatIpv4(config.public4.host),
    public6: Boolean(config.public6),
    private6: Boolean(config.private6),
    privateBridge: PRIVATE_BRIDGE,
    groups: config.group6 ? groupsInUse(d).map((id) => ({ bridge: groupBridgeOf(id) })) : [],
  });
}

function renderDnsmasqHosts(d: Desired): string {
  const hosts = liveVms(d.state).filter(({ vm }) => vm.net.public).map(({ name, vm }) => ({ name, mac: vm.mac, ipv4: vm.ipv4 }));
  return render('dnsmasq.hosts', { hosts });
}

function renderSysctl(d: Desired): string {
  const { config } = d;
  // In sysctl keys a VLAN interface's dot is written as a slash (eth0.100 -> eth0/100).
  return render('sysctl.conf', { ipv6: Boolean(config.public6 || config.private6 || config.group6), upstream: config.upstream.replace(/\./g, '/') });
}

/** kib's own firewall rules of one family, as merged into the rules file and the live tables. */
export function kibRules(d: Desired, family: 4 | 6): KibRules {
  return parseKibRules(family === 4 ? renderRulesV4(d) : renderRulesV6(d));
}

/** The network resources; each renders when planned. */
export function networkResources(d: Desired): Resource[] {
  const shared = (path: string, desired: (current: string | null) => string | null, extra: Partial<Resource> = {}): Resource =>
    ({ kind: 'file', path, scope: 'host', desired, mode: 0o644, owner: ROOT_OWNER, ...extra }) as Resource;
  // Teardown: kib's own files go, the rules files keep only their foreign lines.
  const file = (path: string, desired: () => string | null, extra: Partial<Resource> = {}): Resource =>
    shared(path, d.teardown ? () => null : desired, extra);
  const rules = (family: 4 | 6) => (current: string | null) =>
    d.teardown ? (current === null ? null : removeKibRules(current)) : mergeIptables(current ?? '', kibRules(d, family));
  const iptables = (tool: string) => ({ tool, args: (candidate: string) => ['--test', candidate] });
  return [
    shared(HOST.rulesV4, rules(4), { mode: 0o640, validator: iptables('iptables-restore') }),
    shared(HOST.rulesV6, rules(6), { mode: 0o640, validator: iptables('ip6tables-restore') }),
    file(`${HOST.interfacesDir}/${PUBLIC_BRIDGE}`, () => renderPublicBridge(d)),
    file(`${HOST.interfacesDir}/${PRIVATE_BRIDGE}`, () => renderPrivateBridge(d)),
    file(`${HOST.interfacesDir}/kgr`, () => renderGroupBridges(d)),
    file(HOST.dnsmasqConf, () => renderDnsmasq(d), {
      validator: { tool: 'dnsmasq', args: (candidate) => ['--test', `--conf-file=${candidate}`] },
    }),
    file(HOST.dnsmasqHosts, () => renderDnsmasqHosts(d)),
    file(HOST.sysctl, () => renderSysctl(d)),
  ];
}
