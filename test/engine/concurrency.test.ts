// One kib at a time: concurrent invocations wait for the lock and none loses an update.
// Killed at any instant, kib leaves every file old or new and `kib apply` converges.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseColonDb } from '../../src/formats/colon-db.ts';
import { parseState } from '../../src/model/schema.ts';
import { cleanup, kibAsync, kibOk, read, rootFromFixture, sh, installed, mtimes, snapshot } from '../helpers.ts';

function exitOf(child: ReturnType<typeof kibAsync>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

/** Candidate files left anywhere under the root. */
function staleCandidates(root: string): string[] {
  return [...snapshot(root).keys()].filter((p) => path.basename(p).endsWith('.kib-new'));
}

/** The files must parse, hold consistent entries and load as state. */
function checkConsistent(root: string): void {
  const state = parseState(read(root, 'var/lib/kib/state.json'));
  for (const file of ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow']) {
    const db = parseColonDb(read(root, file));
    const names = db.entries.flatMap((e) => (e.fields ? [e.fields[0]] : []));
    assert.is(new Set(names).size, names.length, `${file}: no duplicate entries`);
    const width = { 'etc/passwd': 7, 'etc/group': 4, 'etc/shadow': 9, 'etc/gshadow': 4 }[file];
    for (const e of db.entries) if (e.fields) assert.is(e.fields.length, width, `${file}: whole entry ${e.line.text}`);
  }
  void state;
  if (installed('iptables-restore')) {
    assert.is(sh('iptables-restore', ['--test', path.join(root, 'etc/iptables/rules.v4')]).status, 0, 'rules.v4 valid');
  }
}

test('eight concurrent creates all land, with distinct allocations', async () => {
  const root = rootFromFixture('busy');
  try {
    kibOk(root, 'setup');
    const names = Array.from({ length: 8 }, (_, i) => `vm${i}`);
    const results = await Promise.all(names.map((n) => exitOf(kibAsync(root, 'create', n, '--public', '--forward4', `tcp:22:${2200 + Number(n.slice(2))}`))));
    for (const r of results) assert.is(r.code, 0, r.stderr);
    const state = parseState(read(root, 'var/lib/kib/state.json'));
    assert.equal(Object.keys(state.vms).sort(), names);
    for (const key of ['uid', 'mac', 'ipv4', 'displayPort'] as const) {
      assert.is(new Set(Object.values(state.vms).map((vm) => vm[key])).size, 8, `distinct ${key}`);
    }
    const passwd = read(root, 'etc/passwd');
    for (const n of names) assert.match(passwd, new RegExp(`^kib-${n}:x:${state.vms[n].uid}:`, 'm'));
    const rules = read(root, 'etc/iptables/rules.v4');
    for (const n of names) assert.match(rules, new RegExp(`--to-destination ${state.vms[n].ipv4.replace(/\./g, '\\.')}:22`));
    checkConsistent(root);
    const before = mtimes(root);
    kibOk(root, 'apply');
    assert.equal(mtimes(root), before, 'nothing left to apply');
  } finally {
    cleanup(root);
  }
});

test('create killed with SIGKILL at random moments: files stay valid and apply converges', async () => {
  const root = rootFromFixture('busy');
  try {
    kibOk(root, 'setup');
    const rounds = Number(process.env.KIB_CRASH_ROUNDS ?? 20);
    let killed = 0;
    for (let i = 0; i < rounds; i++) {
      const child = kibAsync(root, 'create', `c${i}`, '--public', '--forward4', `tcp:80:${8000 + i}`, '--private');
      const done = exitOf(child);
      // Spread kill times over the whole run, from start-up to the last rename.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 350)));
      if (child.kill('SIGKILL')) killed++;
      await done;
      checkConsistent(root);
      // The next run converges, and the one after has nothing to do.
      kibOk(root, 'apply');
      assert.equal(staleCandidates(root), [], 'no stale candidates anywhere after apply');
      const before = mtimes(root);
      kibOk(root, 'apply');
      assert.equal(mtimes(root), before, `round ${i}: converged`);
      checkConsistent(root);
      // Every VM the state holds has its user and unit.
      const state = parseState(read(root, 'var/lib/kib/state.json'));
      for (const n of Object.keys(state.vms)) {
        assert.ok(existsSync(path.join(root, `etc/systemd/user/kib-${n}.service`)), `unit of ${n}`);
        assert.match(read(root, 'etc/passwd'), new RegExp(`^kib-${n}:`, 'm'));
      }
    }
    assert.ok(killed > 0, 'at least one run was killed mid-way');
  } finally {
    cleanup(root);
  }
});

test('remove killed with SIGKILL at random moments: no VM user is orphaned', async () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, 'setup');
    const names = Array.from({ length: 8 }, (_, i) => `r${i}`);
    for (const n of names) kibOk(root, 'create', n, '--public');
    for (const n of names) {
      const child = kibAsync(root, 'remove', n);
      const done = exitOf(child);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
      child.kill('SIGKILL');
      await done;
      kibOk(root, 'apply');
      // Either the removal had not begun (the VM is whole) or it is complete (no trace left).
      const state = parseState(read(root, 'var/lib/kib/state.json'));
      const present = n in state.vms;
      assert.equal(Object.keys(state.removing), [], 'apply finishes pending removals');
      assert.is(new RegExp(`^kib-${n}:`, 'm').test(read(root, 'etc/passwd')), present, `passwd entry of ${n}`);
      assert.is(new RegExp(`^kib-${n}:`, 'm').test(read(root, 'etc/group')), present, `group entry of ${n}`);
      assert.is(existsSync(path.join(root, `etc/ssh/authorized_keys/kib-${n}`)), present, `keys of ${n}`);
      if (present) kibOk(root, 'remove', n);
      assert.not.match(read(root, 'etc/passwd'), new RegExp(`^kib-${n}:`, 'm'));
    }
  } finally {
    cleanup(root);
  }
});

test.run();
