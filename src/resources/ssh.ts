// SSH access for VM owners: one authorized_keys file per VM user, and kib's Match blocks
// at the end of sshd_config: the console as the only command, and local forwarding to
// each VM's own display port (PermitOpen per VM user).
import { parseMarkedBlock, placeBlockAtEnd } from '../formats/marked-block.ts';
import { HOST } from '../paths.ts';
import { render } from '../templates.ts';
import { userOf } from '../model/vm.ts';
import { ROOT_OWNER, type Resource } from '../engine/resource.ts';
import { liveVms, type Desired } from './desired.ts';
import { CONSOLE_SHELL } from './users.ts';

export const SSHD_MARKERS = {
  begin: '# BEGIN kvm-in-a-box (managed by kib; do not edit inside this block)',
  end: '# END kvm-in-a-box',
};

export const keysFileOf = (name: string) => `${HOST.authorizedKeysDir}/${userOf(name)}`;

export function sshResources(d: Desired): Resource[] {
  const keyFiles: Resource[] = [
    ...Object.keys(d.state.removing).map((name) => ({ name, keys: null as string[] | null, displayPort: 0 })),
    ...liveVms(d.state).map(({ name, vm }) => ({ name, keys: vm.sshKeys, displayPort: vm.displayPort })),
  ].map(({ name, keys, displayPort }) => ({
    kind: 'file',
    path: keysFileOf(name),
    scope: name,
    desired: () => (keys === null ? null : render('authorized-keys', { name, user: userOf(name), keys, displayPort })),
    mode: 0o644,
    owner: ROOT_OWNER,
  }));
  const sshdConfig: Resource = {
    kind: 'file',
    path: HOST.sshdConfig,
    scope: 'host',
    desired: (current) => {
      if (current === null) return null; // no sshd on this host: nothing to merge into
      const file = parseMarkedBlock(current, SSHD_MARKERS, HOST.sshdConfig);
      if (d.teardown) return placeBlockAtEnd(file, null, SSHD_MARKERS);
      const vms = liveVms(d.state).map(({ name, vm }) => ({ user: userOf(name), displayPort: vm.displayPort }));
      const block = render('sshd-match', { keysDir: HOST.authorizedKeysDir, consoleShell: CONSOLE_SHELL, vms });
      return placeBlockAtEnd(file, block, SSHD_MARKERS);
    },
    mode: 0o644,
    owner: ROOT_OWNER,
    validator: {
      tool: 'sshd',
      args: (candidate) => ['-t', '-f', candidate],
      inconclusive: /no hostkeys available|Missing privilege separation directory/,
    },
  };
  return [sshdConfig, ...keyFiles];
}
