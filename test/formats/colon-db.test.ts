import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  entryName,
  findEntry,
  mergeOwnedEntries,
  parseColonDb,
  unparseColonDb,
} from '../../src/formats/colon-db.ts';
import { FIXTURES } from '../helpers.ts';

const fixture = (scenario: string, file: string) => readFileSync(path.join(FIXTURES, scenario, 'in', 'etc', file), 'utf8');
const roundTrip = (text: string) => unparseColonDb(parseColonDb(text));
const merge = (text: string, owned: string[], desired: string[][]) =>
  unparseColonDb(mergeOwnedEntries(parseColonDb(text), (n) => owned.includes(n), desired));

// --- parse / unparse ---------------------------------------------------------------------

test('round trip on the busy and clean passwd, group, shadow and gshadow fixtures', () => {
  for (const scenario of ['busy', 'clean']) {
    for (const file of ['passwd', 'group', 'shadow', 'gshadow']) {
      const text = fixture(scenario, file);
      assert.ok(text.length > 100, `${scenario}/${file} is a real fixture`);
      assert.is(roundTrip(text), text, `${scenario}/${file}`);
    }
  }
});

test('round trip on comments, blank lines, CRLF, no final newline, colon-less lines, odd GECOS', () => {
  const cases = [
    '',
    '\n',
    'root:x:0:0:root:/root:/bin/bash',
    'root:x:0:0:root:/root:/bin/bash\n# a comment\n\nbin:x:2:2::/bin:/usr/sbin/nologin\n',
    'root:x:0:0:root:/root:/bin/bash\r\nbin:x:2:2::/bin:/usr/sbin/nologin\r\n',
    'root:x:0:0:root:/root:/bin/bash\r\nbin:x:2:2::/bin:/usr/sbin/nologin',
    'root:x:0:0:root:/root:/bin/bash\nthis line has no colon\n+\n',
    'alice:x:1000:1000:  Alice   Example ,, room 4 ,:/home/alice:/bin/bash\n',
    'tabs:x:1001:1001:\tTab\tGecos\t:/home/tabs:/bin/sh  \n',
    '   \n#root:x:0:0::/:/bin/sh\n::::\n',
  ];
  for (const text of cases) assert.is(roundTrip(text), text, JSON.stringify(text));
});

test('parse: entries have fields keyed by name; comments, blank and colon-less lines have none', () => {
  const db = parseColonDb('# users\n\nroot:x:0:0:root:/root:/bin/bash\r\nnocolon\nalice:x:1000:1000:A  B,,,:/home/alice:/bin/bash');
  assert.equal(db.entries.map(entryName), [undefined, undefined, 'root', undefined, 'alice']);
  assert.equal(db.entries[2].fields, ['root', 'x', '0', '0', 'root', '/root', '/bin/bash']);
  assert.is(db.entries[2].line.eol, '\r\n');
  assert.is(db.entries[4].line.eol, '');
  assert.equal(findEntry(db, 'alice')?.[4], 'A  B,,,');
  assert.is(findEntry(db, 'nocolon'), undefined);
  assert.is(findEntry(db, 'users'), undefined);
});

// --- mergeOwnedEntries ------------------------------------------------------------------

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# local accounts below',
  'kib-one:x:30000:30000:kib VM one:/var/lib/kib/home/one:/usr/sbin/kib-console',
  'alice:x:1000:1000:Alice  Example,,,:/home/alice:/bin/bash',
  'kib-two:x:30001:30001:kib VM two:/var/lib/kib/home/two:/usr/sbin/kib-console',
  '',
  'kib-legacy:x:10002:10002:legacy:/home/kib-legacy:/bin/bash',
  'kib-three:x:30002:30002:kib VM three:/var/lib/kib/home/three:/usr/sbin/kib-console',
  'bob:x:1001:1001:Bob:/home/bob:/bin/bash',
].map((l) => `${l}\n`).join('');

const OWNED = ['kib-one', 'kib-two', 'kib-three', 'kib-four', 'kib-five'];
const vmUser = (name: string, uid: number, gecos = `kib VM ${name}`) => [
  `kib-${name}`, 'x', String(uid), String(uid), gecos, `/var/lib/kib/home/${name}`, '/usr/sbin/kib-console',
];

/** The lines of a text that are not owned entries, in order. */
const foreignLines = (text: string) =>
  text.split(/(?<=\n)/).filter((l) => !OWNED.includes(l.split(':')[0]));

test('merge: owned entries replaced in place, removed ones deleted, new ones appended in order', () => {
  const out = merge(PASSWD, OWNED, [
    vmUser('five', 30005),
    vmUser('two', 30001, 'kib VM two (renamed)'),
    vmUser('four', 30004),
    vmUser('one', 30000),
  ]);
  assert.is(
    out,
    [
      'root:x:0:0:root:/root:/bin/bash',
      '# local accounts below',
      'kib-one:x:30000:30000:kib VM one:/var/lib/kib/home/one:/usr/sbin/kib-console',
      'alice:x:1000:1000:Alice  Example,,,:/home/alice:/bin/bash',
      'kib-two:x:30001:30001:kib VM two (renamed):/var/lib/kib/home/two:/usr/sbin/kib-console',
      '',
      'kib-legacy:x:10002:10002:legacy:/home/kib-legacy:/bin/bash',
      'bob:x:1001:1001:Bob:/home/bob:/bin/bash',
      'kib-five:x:30005:30005:kib VM five:/var/lib/kib/home/five:/usr/sbin/kib-console',
      'kib-four:x:30004:30004:kib VM four:/var/lib/kib/home/four:/usr/sbin/kib-console',
    ].map((l) => `${l}\n`).join(''),
  );
});

test('merge: foreign lines (comments, blanks, a foreign kib-* user) stay byte-identical and in order', () => {
  const out = merge(PASSWD, OWNED, [vmUser('four', 30004)]);
  assert.equal(foreignLines(out), foreignLines(PASSWD));
  assert.ok(out.includes('kib-legacy:x:10002:10002:legacy:/home/kib-legacy:/bin/bash\n'));
  assert.not.ok(out.includes('kib-one:'));
});

test('merge on the busy fixtures keeps every foreign byte', () => {
  for (const file of ['passwd', 'shadow', 'group', 'gshadow']) {
    const text = fixture('busy', file);
    // busy/group has no final newline: its last line is terminated only because kib appends.
    const terminated = text.endsWith('\n') ? text : `${text}\n`;
    const out = merge(text, OWNED, [['kib-one', 'x', '30000', '30000', '', '/h', '/bin/false']]);
    assert.is(out, `${terminated}kib-one:x:30000:30000::/h:/bin/false\n`, file);
    assert.is(merge(out, OWNED, []), terminated, `${file}: removing the entry leaves the foreign lines`);
    assert.is(merge(text, OWNED, []), text, `${file}: nothing owned, nothing desired: unchanged`);
  }
});

test('merge: an unchanged owned entry keeps its exact bytes, CRLF terminator included', () => {
  const text = 'root:x:0:0::/root:/bin/sh\r\nkib-one:x:30000:30000:kib VM one:/var/lib/kib/home/one:/usr/sbin/kib-console\r\nbob:x:1:1::/:/bin/sh\r\n';
  assert.is(merge(text, OWNED, [vmUser('one', 30000)]), text);
  // The new entry follows the file's CRLF style.
  assert.is(
    merge(text, OWNED, [vmUser('one', 30000), ['kib-two', 'x', '2', '2', '', '/', '/bin/false']]),
    `${text}kib-two:x:2:2::/:/bin/false\r\n`,
  );
});

test('merge: a changed owned entry keeps its position and its terminator', () => {
  const text = 'a:x:1:1::/:/bin/sh\r\nkib-one:x:30000:30000:old:/h:/bin/false\r\nb:x:2:2::/:/bin/sh\r\n';
  assert.is(
    merge(text, OWNED, [['kib-one', 'x', '30000', '30000', 'new', '/h', '/bin/false']]),
    'a:x:1:1::/:/bin/sh\r\nkib-one:x:30000:30000:new:/h:/bin/false\r\nb:x:2:2::/:/bin/sh\r\n',
  );
});

test('merge: a last line without newline gets one only when something is appended after it', () => {
  const text = 'root:x:0:0::/root:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh';
  assert.is(merge(text, OWNED, []), text, 'nothing appended: untouched');
  // Removing an unterminated owned last line leaves the (terminated) line before it.
  assert.is(merge(`${text}\nkib-one:x:30000:30000::/h:/bin/false`, OWNED, []), `${text}\n`);
  assert.is(
    merge(text, OWNED, [['kib-one', 'x', '30000', '30000', '', '/h', '/bin/false']]),
    'root:x:0:0::/root:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\nkib-one:x:30000:30000::/h:/bin/false\n',
  );
  // Replacing an owned entry in place appends nothing: the foreign last line stays unterminated.
  const withOwned = 'kib-one:x:30000:30000:old:/h:/bin/false\nbob:x:1001:1001::/home/bob:/bin/sh';
  assert.is(
    merge(withOwned, OWNED, [['kib-one', 'x', '30000', '30000', 'new', '/h', '/bin/false']]),
    'kib-one:x:30000:30000:new:/h:/bin/false\nbob:x:1001:1001::/home/bob:/bin/sh',
  );
});

test('merge into an empty file writes newline-terminated entries', () => {
  assert.is(merge('', OWNED, [['kib-one', '!', '', ''], ['kib-two', '!', '', '']]), 'kib-one:!::\nkib-two:!::\n');
});

test('merge: a duplicated owned entry is collapsed to one, in the first place', () => {
  const text = 'kib-one:x:1:1::/:/bin/false\na:x:2:2::/:/bin/sh\nkib-one:x:1:1::/:/bin/false\n';
  assert.is(merge(text, OWNED, [['kib-one', 'x', '1', '1', '', '/', '/bin/false']]), 'kib-one:x:1:1::/:/bin/false\na:x:2:2::/:/bin/sh\n');
});

test('merge: applying the same merge twice is a no-op', () => {
  const desired = [vmUser('five', 30005), vmUser('two', 30001, 'changed'), vmUser('four', 30004)];
  const inputs = [PASSWD, PASSWD.replace(/\n/g, '\r\n'), PASSWD.slice(0, -1), fixture('busy', 'passwd'), ''];
  for (const text of inputs) {
    const once = merge(text, OWNED, desired);
    assert.is(merge(once, OWNED, desired), once, JSON.stringify(text.slice(-20)));
  }
});

test.run();
