// Supervisor figures: kib-supervise's private memory while a VM runs; the time from start
// to the guest's ready line through kib-supervise against the same qemu argv run bare (its
// QMP on a pipe driven by this script), interleaved; and the time from SIGTERM to the
// supervisor's exit for a guest that powers off on the ACPI button. Real qemu under tcg
// and the test guest (test/guest/build.sh), with the argv kib renders for a VM created on
// a scratch test root; the serial console is read from its socket, as `kib console` does.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const KIB = path.resolve('dist/kib.cjs');
const SUPERVISE = path.resolve('dist/kib-supervise.cjs');
const GUEST = path.resolve('.cache/guest');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** The guest's ACPI button driver settles a moment after its userspace starts. */
const SETTLE_MS = 1500;
const READY_TIMEOUT_MS = 60_000;
const READY = 'KIB-GUEST-READY';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs kib on the scratch root; its stdout, or an error with its stderr. */
function kib(root, ...args) {
  const r = spawnSync(process.execPath, [KIB, '--root', root, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kib ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Rss and Private_Dirty of a process in KiB, from /proc/PID/smaps_rollup. */
function memoryOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  return { rss: field('Rss'), privateDirty: field('Private_Dirty') };
}

/** The qemu the supervisor started: its only child. */
function childOf(pid) {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  if (kids.length !== 1) throw new Error(`kib-supervise ${pid} has children '${kids.join(' ')}', expected its qemu`);
  return Number(kids[0]);
}

/**
 * Resolves with the time the ready line came through the serial socket, connecting as
 * soon as qemu has made it; rejects if `exited` settles first or the guest takes too long.
 */
function readyLine(socket, exited) {
  return new Promise((resolve, reject) => {
    let done = false;
    let client;
    let seen = '';
    const finish = (error, t) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client?.destroy();
      if (error) reject(error);
      else resolve(t);
    };
    const timer = setTimeout(() => finish(new Error(`no ${READY} within ${READY_TIMEOUT_MS / 1000}s`)), READY_TIMEOUT_MS);
    exited.then((e) => finish(new Error(`qemu ended before ${READY} (${e.code ?? e.signal})`)));
    const attempt = () => {
      if (done) return;
      client = net.connect(socket);
      client.setEncoding('latin1');
      client.on('data', (d) => {
        seen = (seen + d).slice(-4096);
        if (seen.includes(READY)) finish(undefined, now());
      });
      client.on('error', () => setTimeout(attempt, 5));
    };
    attempt();
  });
}

/**
 * One boot of the guest, bare or through kib-supervise: the time to its ready line, the
 * memory of the processes once it has settled, and the time from the stop request
 * (SIGTERM to the supervisor, QMP system_powerdown to bare qemu) to the process's exit.
 */
async function boot(kind, argv, socket) {
  rmSync(socket, { force: true });
  const t0 = now();
  const child =
    kind === 'bare'
      ? spawn(argv.qemu[0], argv.qemu.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(process.execPath, [SUPERVISE, ...argv.supervised], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    // Bare qemu's QMP, driven as little as works: capabilities after the greeting.
    if (kind === 'bare' && d.includes('"QMP"')) child.stdin.write('{"execute":"qmp_capabilities"}\n');
  });
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, t: now() })));
  let ready;
  try {
    ready = (await readyLine(socket, exited)) - t0;
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${kind}: ${error.message}\n${out}`);
  }
  await sleep(SETTLE_MS);
  const memory = kind === 'bare' ? { qemu: memoryOf(child.pid) } : { supervisor: memoryOf(child.pid), qemu: memoryOf(childOf(child.pid)) };
  const t1 = now();
  if (kind === 'bare') child.stdin.write('{"execute":"system_powerdown"}\n');
  else child.kill('SIGTERM');
  const end = await exited;
  if (end.code !== 0) throw new Error(`${kind}: exit ${end.code ?? end.signal} after the power button, expected 0\n${out}`);
  return { ready, stop: end.t - t1, memory };
}

/** Private_Dirty and Rss of an idle bare node, the floor under any node supervisor. */
async function idleNode() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  await sleep(1000);
  const m = memoryOf(child.pid);
  child.kill();
  return m;
}

/** Min, median and max of a list of numbers. */
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
/** Milliseconds and KiB, right-aligned for the table. */
const ms = (x) => `${x.toFixed(0).padStart(6)} ms`;
const mib = (kib) => `${(kib / 1024).toFixed(1).padStart(6)} MiB`;

if (spawnSync('bash', ['test/guest/build.sh', GUEST], { stdio: 'inherit' }).status !== 0) throw new Error('building the test guest failed');
const root = mkdtempSync(path.join(os.tmpdir(), 'kib-bench-supervisor-'));
const run = mkdtempSync(path.join(os.tmpdir(), 'kib-bench-run-'));
try {
  cpSync('test/fixtures/clean/in', root, { recursive: true });
  appendFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), 'storage = none\n');
  kib(root, '-q', 'setup');
  kib(root, '-q', 'create', 'web', '--accel', 'tcg', '--mem', '256', '--kernel', path.join(GUEST, 'vmlinuz'), '--initrd', path.join(GUEST, 'initrd.gz'), '--append', 'console=ttyS0 quiet panic=-1');
  const rendered = JSON.parse(kib(root, 'info', 'web', '--json')).argv.map((a) => a.replace(/%t/g, run));
  mkdirSync(path.join(run, 'kib-web'));
  const argv = { supervised: rendered.slice(1), qemu: rendered.slice(rendered.indexOf('--') + 1) };
  if (!existsSync(argv.qemu[0])) throw new Error(`${argv.qemu[0]} is not installed`);
  const socket = path.join(run, 'kib-web', 'ttyS0.sock');

  const floor = await idleNode();
  for (const kind of ['bare', 'supervised']) await boot(kind, argv, socket);
  const results = { bare: [], supervised: [] };
  for (let i = 0; i < RUNS; i++) for (const kind of ['bare', 'supervised']) results[kind].push(await boot(kind, argv, socket));

  const readyBare = stats(results.bare.map((r) => r.ready));
  const readySup = stats(results.supervised.map((r) => r.ready));
  const stopBare = stats(results.bare.map((r) => r.stop));
  const stopSup = stats(results.supervised.map((r) => r.stop));
  const mem = (pick) => ({ privateDirty: stats(results.supervised.map((r) => pick(r.memory).privateDirty)), rss: stats(results.supervised.map((r) => pick(r.memory).rss)) });
  const sup = mem((m) => m.supervisor);
  const itsQemu = mem((m) => m.qemu);
  const qemuVersion = spawnSync(argv.qemu[0], ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];

  console.log(`machine: ${os.cpus().length} cores, node ${process.version}, ${qemuVersion}`);
  console.log(`guest: the test guest under tcg, 256 MiB, no NIC, kib's argv (kib info --json); ${RUNS} interleaved runs each after one warm-up`);
  console.log(`memory ${SETTLE_MS / 1000} s after the ready line (median, max over runs)`);
  console.log(`  kib-supervise  Private_Dirty ${mib(sup.privateDirty.median)} ${mib(sup.privateDirty.max)}   target <= 10 MiB`);
  console.log(`  kib-supervise  Rss           ${mib(sup.rss.median)} ${mib(sup.rss.max)}`);
  console.log(`  idle bare node Private_Dirty ${mib(floor.privateDirty)}, Rss ${mib(floor.rss)}`);
  console.log(`  its qemu       Private_Dirty ${mib(itsQemu.privateDirty.median)} ${mib(itsQemu.privateDirty.max)}, Rss ${mib(itsQemu.rss.median)} ${mib(itsQemu.rss.max)}`);
  console.log('start to KIB-GUEST-READY on the serial socket        min     median');
  console.log(`  qemu bare (QMP on a pipe)                      ${ms(readyBare.min)} ${ms(readyBare.median)}`);
  console.log(`  through kib-supervise                          ${ms(readySup.min)} ${ms(readySup.median)}`);
  console.log(`  ratio                                          ${(readySup.min / readyBare.min).toFixed(3).padStart(9)} ${(readySup.median / readyBare.median).toFixed(3).padStart(9)}   target <= 1.1`);
  console.log(`stop of a cooperative guest, requested ${SETTLE_MS / 1000} s after the ready line    min     median`);
  console.log(`  SIGTERM to kib-supervise's exit (status 0)     ${ms(stopSup.min)} ${ms(stopSup.median)}`);
  console.log(`  QMP system_powerdown to bare qemu's exit       ${ms(stopBare.min)} ${ms(stopBare.median)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
  rmSync(run, { recursive: true, force: true });
}
