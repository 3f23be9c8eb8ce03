// Shared test helpers: temp roots built from fixture trees or inline objects, the real
// CLI run as a process, and snapshots of a tree's contents and mtimes.
import { spawnSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KIB = path.join(REPO, 'dist', 'kib.cjs');
export const FIXTURES = path.join(REPO, 'test', 'fixtures');

export const CONFIG = `domain = kvm-box.example.net
upstream-interface = eth0
public-address = 10.0.0.1/16
public-address6 = 2001:db8::2/64
private-address6 = fd13:5b76:af07::2/64
group-address6 = fded:4154:dde6::2/48
`;

export const KEY1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQdQvclJHzfvJH650Nngv6v2MZ+rNZ4rUeJx3i3MCrA demo@foobar';
export const KEY2 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ0bzV0cmVhbWtleXRlc3RrZXl0ZXN0a2V5dGVzdGtl owner@laptop';

/** A fresh temp directory, removed by the caller with cleanup(). */
export function tempDir(prefix = 'kib-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A temp root copied from test/fixtures/<name>/in, with modes independent of the checkout's umask. */
export function rootFromFixture(name: string): string {
  const root = tempDir();
  cpSync(path.join(FIXTURES, name, 'in'), root, { recursive: true });
  chmodSync(root, 0o755);
  for (const rel of snapshot(root).keys()) chmodSync(path.join(root, rel), rel.endsWith('/') ? 0o755 : 0o644);
  return root;
}

/** A temp root from an inline tree: { 'etc/passwd': '...' }. */
export function rootFromTree(tree: Record<string, string>): string {
  const root = tempDir();
  writeTree(root, tree);
  return root;
}

export function writeTree(root: string, tree: Record<string, string>): void {
  for (const [rel, content] of Object.entries(tree)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
}

export interface KibRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** The environment kib runs in: no colour settings of the test runner's (Node warns about conflicting ones). */
const KIB_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'FORCE_COLOR' && k !== 'NO_COLOR'));

/** Runs the built CLI against a root. */
export function kib(root: string, ...args: string[]): KibRun {
  const r = spawnSync(process.execPath, [KIB, '--root', root, ...args], { encoding: 'utf8', env: KIB_ENV });
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI and fails with its stderr unless it succeeds. */
export function kibOk(root: string, ...args: string[]): KibRun {
  const r = kib(root, ...args);
  if (r.status !== 0) throw new Error(`kib ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

/** Starts the CLI without waiting. */
export function kibAsync(root: string, ...args: string[]) {
  return spawn(process.execPath, [KIB, '--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: KIB_ENV });
}

/** Every file under dir with its content as a byte string (directories end in '/'). */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        out.set(`${r}/`, '');
        walk(r);
      } else out.set(r, readFileSync(path.join(dir, r), 'latin1'));
    }
  };
  walk('');
  return out;
}

/** Modification times of every path under dir. */
export function mtimes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const rel of snapshot(dir).keys()) out.set(rel, statSync(path.join(dir, rel)).mtimeMs);
  return out;
}

export function read(root: string, rel: string): string {
  return readFileSync(path.join(root, rel), 'utf8');
}

/** Runs a program; returns status and output. */
export function sh(cmd: string, args: string[], input?: string): KibRun {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Whether a tool a test needs is here. Outside CI a test without its tool passes
 * vacuously; in CI (which installs every tool, see .ci/run) a missing one is a failure.
 */
export function installed(program: string): boolean {
  return needed(sh('sh', ['-c', `command -v ${program} || test -x /usr/sbin/${program}`]).status === 0, program);
}

/** A test's precondition: in CI it must hold. */
export function needed(ok: boolean, what: string): boolean {
  if (!ok && process.env.CI) throw new Error(`${what} is not available, and CI must provide it (.ci/run)`);
  return ok;
}
