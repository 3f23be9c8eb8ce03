// The two functions yargs takes from 'assert', without loading Node's assert module (and
// with it the colour and stderr set-up that costs every command a few milliseconds).
'use strict';
function fail(message, actual, expected, operator) {
  const error = new Error(message || `${String(actual)} ${operator} ${String(expected)}`);
  error.code = 'ERR_ASSERTION';
  throw error;
}
exports.strictEqual = (actual, expected, message) => {
  if (!Object.is(actual, expected)) fail(message, actual, expected, '!==');
};
exports.notStrictEqual = (actual, expected, message) => {
  if (Object.is(actual, expected)) fail(message, actual, expected, '===');
};
