// passwd, shadow, group and gshadow: one entry per line, fields separated by colons,
// keyed by the first field. Comments, blank and malformed lines are kept as they are.
import { appendLines, joinLines, splitLines, type Line } from './lines.ts';

export interface ColonEntry {
  line: Line;
  /** Present when the line is an entry; comments and blank lines have none. */
  fields?: string[];
}

export interface ColonDb {
  entries: ColonEntry[];
}

/** Parses a colon-separated database; unparseColonDb(parseColonDb(x)) === x. */
export function parseColonDb(content: string): ColonDb {
  return {
    entries: splitLines(content).map((line) => {
      const t = line.text;
      if (t === '' || t.startsWith('#') || !t.includes(':')) return { line };
      return { line, fields: t.split(':') };
    }),
  };
}

export function unparseColonDb(db: ColonDb): string {
  return joinLines(db.entries.map((e) => e.line));
}

/** The entry's key (user or group name), if it is an entry. */
export function entryName(entry: ColonEntry): string | undefined {
  return entry.fields?.[0];
}

/**
 * Replaces the entries for which `owned(name)` holds with `desired` (in desired's order
 * for new ones): an owned entry that is still desired keeps its place, one no longer
 * desired goes, new ones are appended. Every other line is copied through as it is.
 */
export function mergeOwnedEntries(
  db: ColonDb,
  owned: (name: string) => boolean,
  desired: string[][],
): ColonDb {
  const byName = new Map(desired.map((fields) => [fields[0], fields]));
  const placed = new Set<string>();
  const kept: ColonEntry[] = [];
  const eol = db.entries.find((e) => e.line.eol !== '')?.line.eol ?? '\n';
  for (const entry of db.entries) {
    const name = entryName(entry);
    if (name === undefined || !owned(name)) {
      kept.push(entry);
      continue;
    }
    const fields = byName.get(name);
    if (!fields || placed.has(name)) continue;
    placed.add(name);
    const text = fields.join(':');
    // An unchanged entry keeps its exact bytes, terminator included.
    kept.push(text === entry.line.text ? entry : { line: { text, eol: entry.line.eol || eol }, fields });
  }
  const added = desired.filter((fields) => !placed.has(fields[0]));
  const lines = appendLines(
    kept.map((e) => e.line),
    added.map((fields) => ({ text: fields.join(':'), eol })),
  );
  // appendLines only ever changes the last kept line's terminator: rebuild entries without re-parsing.
  return {
    entries: [
      ...kept.map((e, i) => (i === kept.length - 1 ? { ...e, line: lines[i] } : e)),
      ...added.map((fields, i) => ({ line: lines[kept.length + i], fields })),
    ],
  };
}

/** Looks an entry up by name. */
export function findEntry(db: ColonDb, name: string): string[] | undefined {
  return db.entries.find((e) => entryName(e) === name)?.fields;
}
