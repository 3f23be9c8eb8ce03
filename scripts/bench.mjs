// Benchmarks, printed side by side in one run: `kib list` against bare node; `kib change`
// on roots with 10, 100 and 1000 VMs, both a VM-local change (--cpus: its unit) and a
// host-wide one (--forward4: the firewall rules too); and the files a no-op `kib apply`
// writes. Roots are built by writing the state directly and running one `kib apply`.
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

/**
 * Runs every command RUNS times, interleaved (so that load on the machine hits them
 * alike), after one warm-up each; returns min and median wall time per command.
 */
function measure(commands) {
  for (const make of Object.values(commands)) run(make(-1));
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [k, make] of Object.entries(commands)) times[k].push(run(make(i)));
  return Object.fromEntries(
    Object.entries(times).map(([k, t]) => {
      t.sort((a, b) => a - b);
      return [k, { min: t[0], median: t[Math.floor(t.length / 2)] }];
    }),
  );
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
    storage: 'lvm',
    vg: 'vg0',
    diskMiB: 10240,
    disks: [],
    imageFormat: 'qcow2',
    base: null,
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
  const state = { version: 1, vms, removing: {}, keptDisks: {}, cursors: { uid: 30000 + n - 1, ipv4: vms[`vm${n - 1}`].ipv4, displayPort: 10000 + n - 1 } };
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

const roots = Object.fromEntries([10, 100, 1000].map((n) => [n, rootWith(n)]));
const commands = {
  bare: () => ['-e', '0'],
  list: () => [KIB, '--root', roots[10], 'list'],
};
for (const n of [10, 100, 1000]) {
  // A VM-local change (its unit only) and a host-wide one (firewall rules too).
  commands[`change${n}`] = (i) => [KIB, '--root', roots[n], '-q', 'change', 'vm3', '--cpus', String((i & 1) + 1)];
  commands[`forward${n}`] = (i) => [KIB, '--root', roots[n], '-q', 'change', 'vm5', '--forward4', `tcp:22:${(i & 1) ? 30005 : 20005}`];
}
const m = measure(commands);

const before = allMtimes(roots[1000]);
run([KIB, '--root', roots[1000], '-q', 'apply']);
const after = allMtimes(roots[1000]);
const written = [...after].filter(([p, t]) => before.get(p) !== t).length;

const f = (k) => `${m[k].min.toFixed(1).padStart(6)} ${m[k].median.toFixed(1).padStart(6)} ms`;
const r = (k, base = 'bare') => `${(m[k].min / m[base].min).toFixed(2)}x ${(m[k].median / m[base].median).toFixed(2)}x`;
console.log(`machine: ${os.cpus().length} cores, node ${process.version}; ${RUNS} interleaved runs each; min and median wall time`);
console.log(`                                  min median      ratio to bare node (min, median)`);
console.log(`bare node -e 0               ${f('bare')}`);
console.log(`kib list (10 VMs)            ${f('list')}   ${r('list')}   target <= 1.3x`);
for (const n of [10, 100, 1000]) {
  console.log(`kib change --cpus, ${String(n).padStart(4)} VMs ${f(`change${n}`)}   ${r(`change${n}`)}   ${r(`change${n}`, 'change10')} of change at 10 VMs`);
}
for (const n of [10, 100, 1000]) {
  console.log(`kib change --forward4, ${String(n).padStart(4)} ${f(`forward${n}`)}   ${r(`forward${n}`)}   ${r(`forward${n}`, 'forward10')} of it at 10 VMs`);
}
console.log('targets: change at 1000 VMs <= 3x bare node and <= 2x change at 10 VMs');
console.log(`files written by a no-op kib apply (1000 VMs): ${written}   (must be 0)`);
for (const root of Object.values(roots)) rmSync(root, { recursive: true, force: true });
