// kib teardown, the inverse of setup: after setup, VMs created and removed, and teardown,
// the fixture tree is the original one; refused while a VM exists; a second one says kib
// is not set up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, kib, kibOk, KEY1, rootFromFixture, snapshot } from '../helpers.ts';

/** Files only (empty directories kib's files lived in may stay: packages own them on a real host). */
const files = (root: string) => new Map([...snapshot(root)].filter(([rel]) => !rel.endsWith('/')));

for (const fixture of ['clean', 'busy']) {
  test(`${fixture}: setup, create, remove, teardown gives the original files byte for byte`, () => {
    const root = rootFromFixture(fixture);
    try {
      const before = files(root);
      kibOk(root, '--no-live', 'setup');
      kibOk(root, '--no-live', 'create', 'web', '--public', '--private', '--net-group', '3', '--ssh-key', KEY1);
      kibOk(root, '--no-live', 'remove', 'web');
      const dry = kibOk(root, '--no-live', '--dry-run', 'teardown');
      assert.match(dry.stdout, '+++ /dev/null');
      assert.match(dry.stdout, 'would delete /var/lib/kib/state.json');
      const r = kibOk(root, '--no-live', 'teardown');
      assert.match(r.stdout, 'deleted /var/lib/kib/state.json');
      const after = files(root);
      // The removed VM's kept disk stays, and so does its directory: reported, never deleted.
      const kept = [...after.keys()].filter((rel) => rel.startsWith('var/lib/kib/'));
      for (const rel of kept) {
        assert.ok(rel.startsWith('var/lib/kib/disks/'), rel);
        assert.match(r.stdout, 'kept /var/lib/kib/disks/ (not empty)');
        after.delete(rel);
      }
      if (kept.length === 0) assert.not.ok([...snapshot(root).keys()].some((rel) => rel.startsWith('var/lib/kib')));
      else assert.equal([...snapshot(root).keys()].filter((rel) => rel.startsWith('var/lib/kib')).sort(), ['var/lib/kib/', 'var/lib/kib/disks/', ...kept].sort());
      // busy's etc/group ends without a newline: the entry setup appended gave it one, which stays.
      if (fixture === 'busy') after.set('etc/group', after.get('etc/group')!.replace(/\n$/, ''));
      assert.equal([...after.keys()].sort(), [...before.keys()].sort());
      for (const [rel, content] of before) assert.is(after.get(rel), content, rel);
    } finally {
      cleanup(root);
    }
  });
}

test('teardown is refused while a VM exists, and changes nothing', () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, '--no-live', 'setup');
    kibOk(root, '--no-live', 'create', 'web', '--public');
    const before = snapshot(root);
    const r = kib(root, '--no-live', 'teardown');
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, 'VMs exist (web)');
    assert.equal(snapshot(root), before);
  } finally {
    cleanup(root);
  }
});

test('a second teardown says kib is not set up and fails; --json reports what went', () => {
  const root = rootFromFixture('clean');
  try {
    kibOk(root, '--no-live', 'setup');
    const json = JSON.parse(kibOk(root, '--no-live', '--json', 'teardown').stdout) as { changes: { path: string; action: string }[]; state: string[] };
    assert.ok(json.changes.some((c) => c.path === '/etc/ssh/sshd_config' && c.action === 'update'));
    assert.ok(json.state.includes('deleted /var/lib/kib/state.json'));
    const r = kib(root, '--no-live', 'teardown');
    assert.is(r.status, 1);
    assert.match(r.stderr, 'kib is not set up on this host');
  } finally {
    cleanup(root);
  }
});

test.run();
