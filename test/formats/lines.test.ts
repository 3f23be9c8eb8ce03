import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendLines, joinLines, splitLines } from '../../src/formats/lines.ts';

test('splitLines keeps terminators, CRLF and a missing final newline', () => {
  for (const text of ['', 'a', 'a\n', 'a\nb', 'a\r\nb\r\n', '\n\n', 'x\r\ny\nz']) {
    assert.is(joinLines(splitLines(text)), text);
  }
  assert.equal(splitLines('a\r\nb'), [
    { text: 'a', eol: '\r\n' },
    { text: 'b', eol: '' },
  ]);
});

test('appendLines terminates a last line that had no newline, in the file style', () => {
  const out = appendLines(splitLines('a\r\nb'), [{ text: 'c', eol: '\r\n' }]);
  assert.is(joinLines(out), 'a\r\nb\r\nc\r\n');
});

test.run();
