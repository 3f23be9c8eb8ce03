// Line-level access to text files that must round-trip byte for byte.

/** One line with its own terminator ('\n', '\r\n' or '' for a last line without one). */
export interface Line {
  text: string;
  eol: string;
}

/** Splits text into lines, keeping each terminator so that joinLines restores the input. */
export function splitLines(content: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < content.length) {
    const nl = content.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ text: content.slice(start), eol: '' });
      break;
    }
    const cr = nl > start && content[nl - 1] === '\r';
    lines.push({ text: content.slice(start, cr ? nl - 1 : nl), eol: cr ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return lines;
}

/** The inverse of splitLines. */
export function joinLines(lines: Line[]): string {
  return lines.map((l) => l.text + l.eol).join('');
}

/**
 * Appends lines after existing ones. A foreign last line without a terminator gets one
 * (in the file's own style), or the appended text would run into it.
 */
export function appendLines(lines: Line[], extra: Line[]): Line[] {
  if (extra.length === 0) return lines;
  const out = lines.slice();
  const last = out[out.length - 1];
  if (last && last.eol === '') out[out.length - 1] = { ...last, eol: eolStyle(lines) };
  return out.concat(extra);
}

/** The terminator a file mostly uses, '\n' when it has none yet. */
export function eolStyle(lines: Line[]): string {
  return lines.find((l) => l.eol !== '')?.eol ?? '\n';
}

/** Turns rendered text ('\n'-terminated lines) into lines in a given terminator style. */
export function toLines(rendered: string, eol = '\n'): Line[] {
  return splitLines(rendered).map((l) => ({ text: l.text, eol }));
}
