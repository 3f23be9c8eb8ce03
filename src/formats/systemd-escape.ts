// Unit-name escaping, as systemd-escape does it: the instance of a templated unit.

/**
 * systemd's escaping of a string for a unit name (systemd-escape): '/' becomes '-', and
 * '-', '\' and anything not a letter, digit, ':', '_' or '.' (and a leading '.') become \xNN.
 */
export function systemdEscape(text: string): string {
  let out = '';
  for (const [i, c] of [...text].entries()) {
    if (c === '/') out += '-';
    else if ((i === 0 && c === '.') || !/^[A-Za-z0-9:_.]$/.test(c)) out += [...Buffer.from(c, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
    else out += c;
  }
  return out;
}
