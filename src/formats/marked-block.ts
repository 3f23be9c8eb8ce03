// A block of kib's own lines between two marker comments inside a file that is otherwise
// someone else's (sshd_config). Everything outside the markers is copied through.
import { KibError } from '../errors.ts';
import { appendLines, eolStyle, joinLines, splitLines, toLines, type Line } from './lines.ts';

export interface MarkedBlockFile {
  /** Lines outside kib's block, in order. */
  foreign: Line[];
  /** Index in `foreign` where kib's block stood, if it was present. */
  blockAt?: number;
  /** The block's own lines, markers included. */
  block: Line[];
}

export interface Markers {
  begin: string;
  end: string;
}

/** Splits a file into foreign lines and kib's marked block (every copy of it, should there be several). */
export function parseMarkedBlock(content: string, markers: Markers, file: string): MarkedBlockFile {
  const lines = splitLines(content);
  const foreign: Line[] = [];
  const block: Line[] = [];
  let blockAt: number | undefined;
  let openedAt = -1;
  lines.forEach((line, i) => {
    const t = line.text.trim();
    if (openedAt === -1 && t === markers.begin) {
      openedAt = i;
      blockAt ??= foreign.length;
    }
    (openedAt === -1 ? foreign : block).push(line);
    if (openedAt !== -1 && t === markers.end) openedAt = -1;
  });
  if (openedAt !== -1) {
    throw new KibError(
      'conflict',
      `${file}: line ${openedAt + 1} opens kib's block but no '${markers.end}' line closes it; repair the file by hand`,
    );
  }
  return { foreign, blockAt, block };
}

export function unparseMarkedBlock(file: MarkedBlockFile): string {
  if (file.blockAt === undefined) return joinLines(file.foreign);
  const before = file.foreign.slice(0, file.blockAt);
  const after = file.foreign.slice(file.blockAt);
  return joinLines([...before, ...file.block, ...after]);
}

/**
 * Puts kib's block (rendered text without markers, or null for none) at the end of the
 * file, after every foreign line: in sshd_config a Match block runs to the next Match or
 * the end, so only the end is outside every foreign block.
 */
export function placeBlockAtEnd(file: MarkedBlockFile, body: string | null, markers: Markers): string {
  if (body === null) return joinLines(file.foreign);
  const eol = eolStyle(file.foreign);
  const block = toLines(`${markers.begin}\n${body}${markers.end}\n`, eol);
  return joinLines(appendLines(file.foreign, block));
}
