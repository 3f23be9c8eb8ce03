// Golden scenarios: a clean host and a busy one, driven through the real CLI step by
// step. After each step the whole root must equal test/fixtures/<scenario>/<step>/expected
// (contents, plus a manifest of paths and modes), a second run (kib apply) must change
// and rewrite nothing, and every foreign line of the shared files must survive in order.
// KIB_UPDATE_GOLDEN=1 rewrites the expected trees; review the diff.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, FIXTURES, KEY1, KEY2, kibOk, mtimes, rootFromFixture, snapshot } from './helpers.ts';

const UPDATE = process.env.KIB_UPDATE_GOLDEN === '1';

interface Scenario {
  fixture: string;
  steps: [string, string[]][];
}

const SCENARIOS: Record<string, Scenario> = {
  clean: {
    fixture: 'clean',
    steps: [
      ['01-setup', ['setup']],
      ['02-create-public', ['create', 'web', '--public', '--forward4', 'tcp:80:8080', '--forward4', 'udp:53:5353', '--open6', 'tcp:22', '--ssh-key', KEY1, '--mem', '1G', '--cpus', '2']],
      ['03-create-private-group', ['create', 'db', '--private', '--net-group', '5', '--ssh-key', KEY2]],
      ['04-create-user-groups', ['create', 'ci', '--user', '--net-group', '5', '--net-group', '7', '--accel', 'tcg']],
      ['05-change', ['change', 'web', '--no-forward4', '--forward4', 'tcp:443:443', '--add-disk', 'data']],
      ['06-change-private', ['change', 'db', '--public', '--no-private', '--no-net-group']],
      ['07-remove', ['remove', 'db']],
      ['08-create-again', ['create', 'db', '--public']],
      ['09-remove', ['remove', 'db']],
      ['10-remove-ci', ['remove', 'ci']],
      ['11-remove-last', ['remove', 'web']],
    ],
  },
  busy: {
    fixture: 'busy',
    steps: [
      ['01-setup', ['setup']],
      ['02-create', ['create', 'web', '--public', '--forward4', 'tcp:80:8080', '--ssh-key', KEY1]],
      ['03-create-private', ['create', 'mail', '--public', '--private', '--forward4', 'tcp:25:25', '--open6', 'tcp:25']],
      ['04-change', ['change', 'web', '--mem', '2048', '--drive-device', 'scsi-hd', '--ssh-key', KEY1, '--ssh-key', KEY2]],
      ['05-remove', ['remove', 'web']],
      ['06-create-again', ['create', 'web', '--public']],
    ],
  },
};

/** The lock, and disk images (binary; tested on their own in test/storage). */
const IGNORED = (rel: string) => rel === 'var/lib/kib/lock' || rel.startsWith('var/lib/kib/disks/');

/** The tree as a manifest of 'mode path' lines plus file contents. */
function treeOf(root: string): { manifest: string; files: Map<string, string> } {
  const files = new Map<string, string>();
  const lines: string[] = [];
  for (const [rel, content] of [...snapshot(root)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (IGNORED(rel)) continue;
    const mode = (statSync(path.join(root, rel)).mode & 0o7777).toString(8).padStart(4, '0');
    lines.push(`${mode} ${rel}`);
    if (!rel.endsWith('/')) files.set(rel, content);
  }
  return { manifest: `${lines.join('\n')}\n`, files };
}

function writeExpected(dir: string, root: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { manifest, files } = treeOf(root);
  for (const [rel, content] of files) {
    mkdirSync(path.dirname(path.join(dir, 'expected', rel)), { recursive: true });
    writeFileSync(path.join(dir, 'expected', rel), content, 'latin1');
  }
  writeFileSync(path.join(dir, 'manifest'), manifest);
}

function checkExpected(dir: string, root: string, label: string): void {
  assert.ok(existsSync(dir), `${label}: no golden tree at ${dir}; run with KIB_UPDATE_GOLDEN=1`);
  const { manifest, files } = treeOf(root);
  assert.fixture(manifest, readFileSync(path.join(dir, 'manifest'), 'utf8'), `${label}: paths and modes`);
  for (const [rel, content] of files) {
    assert.fixture(content, readFileSync(path.join(dir, 'expected', rel), 'latin1'), `${label}: ${rel}`);
  }
}

/** The entries of the VMs these scenarios create, and kib's group: everything else is foreign. */
const OURS = /^kib(-(web|db|ci|mail|a|b))?:/;
const KIB_CHAIN = /\bKIB_(INPUT|FORWARD|PREROUTING|POSTROUTING)\b/;

/** kib's own lines, and the member lists it edits in the shared groups, taken out; bytes as they are. */
function foreignLines(rel: string, content: string): string[] {
  let lines = content.split('\n');
  if (rel.endsWith('sshd_config')) {
    const begin = lines.findIndex((l) => l.startsWith('# BEGIN kvm-in-a-box'));
    const end = lines.findIndex((l) => l === '# END kvm-in-a-box');
    if (begin !== -1) lines = [...lines.slice(0, begin), ...lines.slice(end + 1)];
  }
  return lines
    .filter((l) => !OURS.test(l) && !KIB_CHAIN.test(l))
    .map((l) => (/^kvm:/.test(l) ? l.replace(/,?kib-(web|db|ci|mail|a|b)\b/g, '').replace(/:,/, ':') : l))
    .filter((l) => l !== '');
}

const SHARED = ['etc/passwd', 'etc/shadow', 'etc/group', 'etc/gshadow', 'etc/ssh/sshd_config', 'etc/iptables/rules.v4', 'etc/iptables/rules.v6'];

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  test(`golden scenario: ${name}`, () => {
    const root = rootFromFixture(scenario.fixture);
    const original = snapshot(root);
    try {
      for (const [step, args] of scenario.steps) {
        kibOk(root, ...args);
        const dir = path.join(FIXTURES, name, step);
        if (UPDATE) writeExpected(dir, root);
        else checkExpected(dir, root, `${name}/${step}`);

        // A second run changes nothing and rewrites no file.
        const before = mtimes(root);
        const again = kibOk(root, 'apply', '--json');
        assert.equal(JSON.parse(again.stdout).changes, [], `${name}/${step}: apply after the step changes nothing`);
        assert.equal(mtimes(root), before, `${name}/${step}: apply rewrites no file`);

        for (const rel of SHARED) {
          const was = original.get(rel);
          if (was === undefined) continue;
          const now = readFileSync(path.join(root, rel), 'latin1');
          assert.equal(foreignLines(rel, now), foreignLines(rel, was), `${name}/${step}: foreign lines of ${rel}`);
        }
      }
    } finally {
      cleanup(root);
    }
  });
}

test('removing every VM gives back the original passwd, shadow and sshd_config foreign lines', () => {
  const root = rootFromFixture('clean');
  try {
    const original = snapshot(root);
    kibOk(root, 'setup');
    kibOk(root, 'create', 'a', '--public');
    kibOk(root, 'create', 'b', '--private');
    kibOk(root, 'remove', 'a');
    kibOk(root, 'remove', 'b');
    for (const rel of ['etc/passwd', 'etc/shadow']) assert.is(readFileSync(path.join(root, rel), 'latin1'), original.get(rel), rel);
  } finally {
    cleanup(root);
  }
});

test.run();
