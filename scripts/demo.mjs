// The demo: a copy of a busy Debian host's /etc under ./demo-root, then `kib setup` and
// two VMs, printing what kib did at each step. Nothing outside ./demo-root is touched.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';

const root = 'demo-root';
const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQdQvclJHzfvJH650Nngv6v2MZ+rNZ4rUeJx3i3MCrA demo@foobar';
rmSync(root, { recursive: true, force: true });
cpSync('test/fixtures/busy/in', root, { recursive: true });

const steps = [
  ['setup'],
  ['create', 'web', '--public', '--forward4', 'tcp:80:8080', '--open6', 'tcp:22', '--ssh-key', key, '--mem', '1G'],
  ['create', 'db', '--private', '--net-group', '5'],
  ['list'],
  ['info', 'web'],
  ['apply'],
];
for (const args of steps) {
  console.log(`\n$ kib --root ${root} ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const r = spawnSync(process.execPath, ['dist/kib.cjs', '--root', root, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`\nThe demo host is in ./${root}: see etc/passwd, etc/iptables/rules.v4, etc/systemd/user/ ...`);
console.log('(the last apply printed nothing: the host already matches the desired state)');
