import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { splitWords } from '../../src/formats/words.ts';

test('splitWords splits on runs of whitespace', () => {
  assert.equal(splitWords('  -A INPUT\t-j   ACCEPT '), ['-A', 'INPUT', '-j', 'ACCEPT']);
  assert.equal(splitWords(''), []);
});

test('quoted words stay whole, quotes removed, escapes honoured', () => {
  assert.equal(splitWords('-m comment --comment "allow -j DROP here" -j ACCEPT'), ['-m', 'comment', '--comment', 'allow -j DROP here', '-j', 'ACCEPT']);
  assert.equal(splitWords(`a 'b c' "d \\"e\\"" f\\ g`), ['a', 'b c', 'd "e"', 'f g']);
  assert.equal(splitWords('x ""'), ['x', '']);
});

test.run();
