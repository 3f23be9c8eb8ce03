import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KibError } from '../../src/errors.ts';
import { parseMarkedBlock, placeBlockAtEnd, unparseMarkedBlock } from '../../src/formats/marked-block.ts';
import { FIXTURES } from '../helpers.ts';

const MARKERS = { begin: '# BEGIN kib', end: '# END kib' };
const BODY = 'Match Group kib\n\tAuthorizedKeysFile /etc/ssh/authorized_keys/%u\n\tAllowTcpForwarding no\n';
const BLOCK = `# BEGIN kib\n${BODY}# END kib\n`;
const SSHD = readFileSync(path.join(FIXTURES, 'busy/in/etc/ssh/sshd_config'), 'utf8');

const parse = (text: string) => parseMarkedBlock(text, MARKERS, '/etc/ssh/sshd_config');
const place = (text: string, body: string | null = BODY) => placeBlockAtEnd(parse(text), body, MARKERS);

test('parse/unparse round trip, with and without a block', () => {
  const cases = [
    '',
    'Port 22\n',
    'Port 22',
    SSHD,
    `Port 22\n${BLOCK}`,
    `Port 22\n${BLOCK}Match User bob\n\tX11Forwarding yes\n`,
    `Port 22\r\n${BLOCK.replace(/\n/g, '\r\n')}UsePAM yes`,
    `  # BEGIN kib  \nbody\n\t# END kib\nafter\n`,
  ];
  for (const text of cases) assert.is(unparseMarkedBlock(parse(text)), text, JSON.stringify(text));
});

test('parse separates the block (markers included) from the foreign lines', () => {
  const file = parse(`Port 22\n${BLOCK}UsePAM yes\n`);
  assert.is(file.blockAt, 1);
  assert.equal(file.block.map((l) => l.text), ['# BEGIN kib', 'Match Group kib', '\tAuthorizedKeysFile /etc/ssh/authorized_keys/%u', '\tAllowTcpForwarding no', '# END kib']);
  assert.equal(file.foreign.map((l) => l.text), ['Port 22', 'UsePAM yes']);
  const none = parse('Port 22\n');
  assert.is(none.blockAt, undefined);
  assert.equal(none.block, []);
});

test('the block is placed at the end, after a foreign Match block', () => {
  const text = `${SSHD}Match User backup\n\tForceCommand internal-sftp\n`;
  assert.is(place(text), `${text}${BLOCK}`);
});

test('a block found in the middle is moved to the end', () => {
  const before = 'Port 22\nPermitRootLogin no\n';
  const after = 'Match User backup\n\tForceCommand internal-sftp\n';
  const out = place(`${before}# BEGIN kib\nold body\n# END kib\n${after}`);
  assert.is(out, `${before}${after}${BLOCK}`);
});

test('replacing the block twice is stable', () => {
  for (const text of [SSHD, 'Port 22', `a\n${BLOCK}b\n`, 'x\r\ny\r\n']) {
    const once = place(text);
    assert.is(place(once), once, JSON.stringify(text));
    assert.is(once.split('# BEGIN kib').length, 2, 'exactly one block');
  }
});

test('a null body removes the block and leaves the foreign lines', () => {
  assert.is(place(`Port 22\n${BLOCK}UsePAM yes\n`, null), 'Port 22\nUsePAM yes\n');
  assert.is(place(SSHD, null), SSHD);
});

test('a BEGIN without END is a conflict naming the file and the line', () => {
  const text = 'Port 22\n# BEGIN kib\nMatch Group kib\n';
  try {
    parse(text);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, KibError);
    assert.is((error as KibError).code, 'conflict');
    assert.match((error as KibError).message, '/etc/ssh/sshd_config');
    assert.match((error as KibError).message, 'line 2');
  }
  // An END before the BEGIN does not close it.
  assert.throws(() => parse('# END kib\n# BEGIN kib\n'), (e: unknown) => e instanceof KibError && e.code === 'conflict');
});

test('a file without a final newline gets one before the block', () => {
  assert.is(place('Port 22\nUsePAM yes'), `Port 22\nUsePAM yes\n${BLOCK}`);
  // Also when the unterminated line came after an old block.
  assert.is(place(`Port 22\n${BLOCK}UsePAM yes`), `Port 22\nUsePAM yes\n${BLOCK}`);
  assert.is(place(''), BLOCK);
});

test('a CRLF file keeps CRLF, the block included', () => {
  const text = 'Port 22\r\nUsePAM yes\r\n';
  const out = place(text);
  assert.is(out, `${text}${BLOCK.replace(/\n/g, '\r\n')}`);
  assert.is(place('Port 22\r\nUsePAM yes'), out);
  assert.is(place(out), out);
});

test.run();
