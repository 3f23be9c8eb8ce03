// The one place host paths are built: every path kib touches goes through the root prefix.
import path from 'node:path';

/** Host paths, as they appear inside rendered files (relative to the target host's /). */
export const HOST = {
  config: '/etc/kvm-in-a-box.cfg',
  stateDir: '/var/lib/kib',
  state: '/var/lib/kib/state.json',
  legacyState: '/var/lib/kib/state',
  lock: '/var/lib/kib/lock',
  passwd: '/etc/passwd',
  shadow: '/etc/shadow',
  group: '/etc/group',
  gshadow: '/etc/gshadow',
  sshdConfig: '/etc/ssh/sshd_config',
  /** The running sshd (Debian's ssh.service) writes this pid file. */
  sshdPid: '/run/sshd.pid',
  sshUnit: 'ssh.service',
  authorizedKeysDir: '/etc/ssh/authorized_keys',
  udevRules: '/etc/udev/rules.d/60-kib.rules',
  dnsmasqConf: '/etc/dnsmasq.d/kib',
  dnsmasqHosts: '/etc/dnsmasq.kib.hosts',
  /** kib's dnsmasq: a system service that runs with this pid file and kib's config. */
  dnsmasqPid: '/run/kib-dnsmasq.pid',
  dnsmasqUnit: 'kib-dnsmasq.service',
  rulesV4: '/etc/iptables/rules.v4',
  rulesV6: '/etc/iptables/rules.v6',
  interfacesDir: '/etc/network/interfaces.d',
  userUnitDir: '/etc/systemd/user',
  lingerDir: '/var/lib/systemd/linger',
  sysctl: '/etc/sysctl.d/50-kib.conf',
  homeBase: '/var/lib/kib/home',
  sbin: '/usr/sbin',
  /** The packaged preseed file of `install debian auto` (preseed/preseed.cfg in the source). */
  preseed: '/usr/share/kvm-in-a-box/preseed.cfg',
  /** Present when the Debian package is installed (its postinst creates the group kib). */
  packageDir: '/usr/share/kvm-in-a-box',
  /** Where systemd keeps what it knows at run time (present when systemd is PID 1). */
  systemdRun: '/run/systemd/system',
  udevControl: '/run/udev/control',
  userRuntimeBase: '/run/user',
} as const;

/** Every directory kib writes files in, where a killed run may have left a candidate. */
export const KIB_DIRS = [
  '/etc',
  '/etc/ssh',
  HOST.authorizedKeysDir,
  '/etc/udev/rules.d',
  '/etc/dnsmasq.d',
  '/etc/iptables',
  HOST.interfacesDir,
  HOST.userUnitDir,
  HOST.lingerDir,
  '/etc/sysctl.d',
  HOST.stateDir,
];

/** Maps a host path to where it lives under the root kib works on. */
export function rooted(root: string, hostPath: string): string {
  if (!hostPath.startsWith('/')) throw new Error(`host path must be absolute: ${hostPath}`);
  return root === '/' ? hostPath : path.join(root, hostPath);
}
