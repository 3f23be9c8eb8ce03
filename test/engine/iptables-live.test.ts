// The rules kib renders load into a real netfilter (inside a network namespace this test
// creates), and iptables-save gives back the same file: kib places its lines where
// iptables-save lists them, so `netfilter-persistent save` causes no rewrite by kib.
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, KEY1, kibOk, needed, read, rootFromFixture, sh } from '../helpers.ts';

const NS = `kib-test-${process.pid}`;
const canCreate = needed(sh('ip', ['netns', 'add', NS]).status === 0, 'a network namespace');

/** Comments dropped, counters zeroed: what differs between a saved file and its source. */
function normalize(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/^\[\d+:\d+\]\s+/, '').replace(/ \[\d+:\d+\]$/, ' [0:0]'))
    .join('\n');
}

for (const fixture of ['clean', 'busy']) {
  test(`${fixture}: rules.v4 and rules.v6 survive restore and save unchanged`, () => {
    if (!canCreate) return;
    const root = rootFromFixture(fixture);
    try {
      kibOk(root, 'setup');
      kibOk(root, 'create', 'web', '--public', '--forward4', 'tcp:80:8080', '--open6', 'tcp:22', '--ssh-key', KEY1);
      kibOk(root, 'create', 'db', '--private', '--public', '--net-group', '3', '--forward4', 'udp:53:5353');
      for (const [restore, save, file] of [
        ['iptables-restore', 'iptables-save', 'etc/iptables/rules.v4'],
        ['ip6tables-restore', 'ip6tables-save', 'etc/iptables/rules.v6'],
      ]) {
        const loaded = sh('ip', ['netns', 'exec', NS, restore], read(root, file));
        assert.is(loaded.status, 0, `${restore}: ${loaded.stderr}`);
        const saved = sh('ip', ['netns', 'exec', NS, save]);
        assert.is(saved.status, 0, saved.stderr);
        assert.fixture(normalize(saved.stdout), normalize(read(root, file)), `${file} round trip through ${save}`);
      }
      void path;
    } finally {
      cleanup(root);
    }
  });
}

test.after(() => {
  if (canCreate) sh('ip', ['netns', 'del', NS]);
});
test.run();
