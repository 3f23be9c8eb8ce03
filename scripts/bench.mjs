// Benchmarks, printed side by side in one run: `kib list` against bare node, `kib change`
// on roots with 10, 100 and 1000 VMs, and the files a no-op `kib apply` writes.
// Roots are built by writing the state directly and running one `kib apply`.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const KIB = path.resolve('dist/kib.cjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function run(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return ms;
}

/** Median wall time of a command over RUNS runs (after one warm-up). */
function median(makeArgs) {
  run(makeArgs(-1));
  const times = Array.from({ length: RUNS }, (_, i) => run(makeArgs(i))).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function vm(i) {
  const hex = (n) => n.toString(16).padStart(2, '0');
  return {
    uid: 30000 + i,
    mac: `52:54:01:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`,
    ipv4: `10.0.${(i + 2) >> 8}.${(i + 2) & 255}`,
    displayPort: 10000 + i,
    arch: 'x86_64',
    cpus: 1,
    memMiB: 512,
    driveDevice: 'virtio-blk-pci',
    accel: null,
    vg: 'vg0',
    disks: [],
    sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQdQvclJHzfvJH650Nngv6v2MZ+rNZ4rUeJx3i3MCrA demo@foobar'],
    net: { user: false, public: true, private: i % 2 === 0, groups: [] },
    forward4: [{ proto: 'tcp', internal: 22, external: 20000 + i }],
    open6: [],
    boot: { kernel: null, initrd: null, append: null },
  };
}

function rootWith(n) {
  const root = mkdtempSync(path.join(os.tmpdir(), `kib-bench-${n}-`));
  cpSync('test/fixtures/busy/in', root, { recursive: true });
  writeFileSync(
    path.join(root, 'etc/kvm-in-a-box.cfg'),
    'domain = kvm-box.example.net\nupstream-interface = eth0\npublic-address = 10.0.0.1/16\npublic-address6 = 2001:db8::2/64\ndisplay-ports = 10000-19999\n',
  );
  const vms = Object.fromEntries(Array.from({ length: n }, (_, i) => [`vm${i}`, vm(i)]));
  const state = { version: 1, vms, removing: {}, cursors: { uid: 30000 + n - 1, ipv4: vms[`vm${n - 1}`].ipv4, displayPort: 10000 + n - 1 } };
  spawnSync('mkdir', ['-p', path.join(root, 'var/lib/kib')]);
  writeFileSync(path.join(root, 'var/lib/kib/state.json'), JSON.stringify(state));
  run([KIB, '--root', root, '-q', 'apply']);
  return root;
}

function allMtimes(dir, out = new Map()) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.set(p, statSync(p).mtimeMs);
    if (e.isDirectory()) allMtimes(p, out);
  }
  return out;
}

const bare = median(() => ['-e', '0']);
const roots = Object.fromEntries([10, 100, 1000].map((n) => [n, rootWith(n)]));
const list = median(() => [KIB, '--root', roots[10], 'list']);
const change = Object.fromEntries(
  Object.entries(roots).map(([n, root]) => [n, median((i) => [KIB, '--root', root, '-q', 'change', 'vm3', '--cpus', String((i & 1) + 1)])]),
);

const before = allMtimes(roots[1000]);
run([KIB, '--root', roots[1000], '-q', 'apply']);
const after = allMtimes(roots[1000]);
const written = [...after].filter(([p, t]) => before.get(p) !== t).length;

const f = (ms) => `${ms.toFixed(1)} ms`;
const r = (ms) => `${(ms / bare).toFixed(2)}x bare node`;
console.log(`machine: ${os.cpus().length} cores, node ${process.version}, ${RUNS} runs each, median wall time`);
console.log(`bare node -e 0            ${f(bare)}`);
console.log(`kib list (10 VMs)         ${f(list)}  ${r(list)}   (target <= 1.3x)`);
for (const [n, ms] of Object.entries(change)) {
  console.log(`kib change, ${String(n).padStart(4)} VMs     ${f(ms)}  ${r(ms)}   ${(ms / change[10]).toFixed(2)}x change at 10 VMs`);
}
console.log(`targets: change at 1000 VMs <= 3x bare node and <= 2x change at 10 VMs`);
console.log(`files written by a no-op kib apply (1000 VMs): ${written}   (must be 0)`);
for (const root of Object.values(roots)) rmSync(root, { recursive: true, force: true });
