// The iptables-save format (etc/iptables/rules.v4 and rules.v6), parsed into lines owned
// by kib (KIB_* chains, their rules, and the jumps into them from built-in chains) and
// foreign lines, which keep their exact bytes and order.
import { eolStyle, joinLines, splitLines, type Line } from './lines.ts';
import { splitWords } from './words.ts';

/**
 * The chains kib renders, and so owns. Other chains whose names merely start with KIB_
 * are foreign like any other.
 */
export const KIB_CHAINS = new Set(['KIB_INPUT', 'KIB_FORWARD', 'KIB_PREROUTING', 'KIB_POSTROUTING']);

export type IptLine =
  | { kind: 'other'; line: Line }
  | { kind: 'table'; line: Line; table: string }
  | { kind: 'chain'; line: Line; table: string; chain: string }
  | { kind: 'rule'; line: Line; table: string; chain: string; target?: string }
  | { kind: 'commit'; line: Line; table: string };

const COUNTERS = /^\[\d+:\d+\]\s+/;

/** Parses iptables-save output; unparseIptables(parseIptables(x)) === x. */
export function parseIptables(content: string): IptLine[] {
  let table = '';
  return splitLines(content).map((line): IptLine => {
    const t = line.text.trim();
    if (t.startsWith('*')) {
      table = t.slice(1).trim();
      return { kind: 'table', line, table };
    }
    if (t === 'COMMIT') return { kind: 'commit', line, table };
    if (t.startsWith(':')) return { kind: 'chain', line, table, chain: t.slice(1).split(/\s+/)[0] };
    const words = splitWords(t.replace(COUNTERS, ''));
    if (words[0] === '-A' || words[0] === '-I' || words[0] === '--append' || words[0] === '--insert') {
      return { kind: 'rule', line, table, chain: words[1] ?? '', target: targetOf(words) };
    }
    return { kind: 'other', line };
  });
}

export function unparseIptables(lines: IptLine[]): string {
  return joinLines(lines.map((l) => l.line));
}

function targetOf(words: string[]): string | undefined {
  const i = words.findIndex((w) => w === '-j' || w === '--jump' || w === '-g' || w === '--goto');
  return i === -1 ? undefined : words[i + 1];
}

/** Whether a line belongs to kib: one of its chains, a rule in one, or a jump to one. */
export function isKibLine(l: IptLine): boolean {
  if (l.kind === 'chain') return KIB_CHAINS.has(l.chain);
  if (l.kind === 'rule') return KIB_CHAINS.has(l.chain) || KIB_CHAINS.has(l.target ?? '');
  return false;
}

/** What kib wants in one table. Rules are iptables-save lines without counters. */
export interface KibTable {
  /** Built-in chains this table has, for creating the table when the file lacks it. */
  builtins: string[];
  /** kib's own chains. */
  chains: string[];
  /** Jumps from built-in chains, e.g. '-A INPUT -j KIB_INPUT'. */
  jumps: string[];
  /** Rules of kib's chains. */
  rules: string[];
}

export type KibRules = Record<string, KibTable>;

const TERMINAL = new Set(['DROP', 'REJECT']);

/** Built-in chains of each table, in the order iptables-save lists them. */
export const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** iptables-save sorts user chains by byte value. */
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Replaces kib's lines with the desired ones, where iptables-save itself would list them,
 * so that a file saved from the live rules (netfilter-persistent save) needs no rewrite:
 * kib's chains among the table's user chains in byte order; each jump right before the
 * first foreign DROP/REJECT of its built-in chain (so that a final reject does not shadow
 * it) or else after that chain's last rule; kib's rules among the user chains' rules in
 * chain order. Tables the file lacks are appended whole.
 */
export function mergeIptables(content: string, desired: KibRules): string {
  const parsed = parseIptables(content);
  const eol = eolStyle(parsed.map((l) => l.line));
  const mk = (text: string): Line => ({ text, eol });
  const foreign = parsed.filter((l) => !isKibLine(l));
  /** Lines to insert before foreign[i] (i = foreign.length: at the end). */
  const inserts = new Map<number, string[]>();
  const insert = (at: number, lines: string[]) => {
    const list = inserts.get(at);
    if (list) list.push(...lines);
    else inserts.set(at, [...lines]);
  };
  const seen = new Set<string>();

  foreign.forEach((l, i) => {
    if (l.kind !== 'table' || !desired[l.table] || seen.has(l.table)) return;
    seen.add(l.table);
    const want = desired[l.table];
    const builtins = BUILTIN_CHAINS[l.table] ?? want.builtins;
    const isBuiltin = (chain: string) => builtins.includes(chain);
    let commit = foreign.findIndex((n, j) => j > i && n.kind === 'commit');
    if (commit === -1) commit = foreign.length;
    const body = foreign.map((n, j) => ({ n, j })).filter(({ j }) => j > i && j < commit);
    const chainLines = body.filter(({ n }) => n.kind === 'chain');
    const rules = body.filter(({ n }) => n.kind === 'rule') as { n: Extract<IptLine, { kind: 'rule' }>; j: number }[];
    const afterChains = chainLines.length > 0 ? chainLines[chainLines.length - 1].j + 1 : i + 1;

    for (const chain of [...want.chains].sort(byteOrder)) {
      const next = chainLines.find(({ n }) => n.kind === 'chain' && !isBuiltin(n.chain) && byteOrder(n.chain, chain) > 0);
      insert(next?.j ?? afterChains, [`:${chain} - [0:0]`]);
    }
    for (const jump of want.jumps) {
      const chain = chainOfJump(jump);
      const own = rules.filter(({ n }) => n.chain === chain);
      const terminal = own.find(({ n }) => TERMINAL.has(n.target ?? ''));
      const rank = builtins.indexOf(chain);
      const later = rules.find(({ n }) => !isBuiltin(n.chain) || builtins.indexOf(n.chain) > rank);
      insert(terminal?.j ?? (own.length > 0 ? own[own.length - 1].j + 1 : (later?.j ?? commit)), [jump]);
    }
    const byChain = new Map<string, string[]>();
    for (const rule of want.rules) {
      const chain = rule.split(/\s+/)[1];
      const list = byChain.get(chain);
      if (list) list.push(rule);
      else byChain.set(chain, [rule]);
    }
    for (const chain of [...byChain.keys()].sort(byteOrder)) {
      const next = rules.find(({ n }) => !isBuiltin(n.chain) && byteOrder(n.chain, chain) > 0);
      insert(next?.j ?? commit, byChain.get(chain)!);
    }
  });

  const out: Line[] = [];
  foreign.forEach((l, i) => {
    for (const text of inserts.get(i) ?? []) out.push(mk(text));
    out.push(i === foreign.length - 1 && !inserts.has(foreign.length) ? l.line : withEol(l.line, eol));
  });
  for (const text of inserts.get(foreign.length) ?? []) out.push(mk(text));

  for (const [table, want] of Object.entries(desired)) {
    if (seen.has(table)) continue;
    if (out.length > 0) out[out.length - 1] = withEol(out[out.length - 1], eol);
    out.push(mk(`*${table}`));
    out.push(...want.builtins.map((c) => mk(`:${c} ACCEPT [0:0]`)));
    out.push(...[...want.chains].sort(byteOrder).map((c) => mk(`:${c} - [0:0]`)));
    out.push(...want.jumps.map(mk));
    const chains = [...new Set(want.rules.map((r) => r.split(/\s+/)[1]))].sort(byteOrder);
    for (const chain of chains) out.push(...want.rules.filter((r) => r.split(/\s+/)[1] === chain).map(mk));
    out.push(mk('COMMIT'));
  }
  return joinLines(out);
}

function withEol(line: Line, eol: string): Line {
  return line.eol === '' ? { ...line, eol } : line;
}

function chainOfJump(jump: string): string {
  return jump.split(/\s+/)[1];
}

/**
 * The file without kib's part (`kib teardown`): kib's chains, rules and jumps dropped, and
 * the tables mergeIptables appended whole (only built-in chains with kib's policy line
 * left) dropped from the end. Null when nothing is left: kib made the file.
 */
export function removeKibRules(content: string): string | null {
  // Only a table that held kib's lines can be one kib appended: an admin's empty table stays.
  const kibTables = new Set(parseIptables(content).filter(isKibLine).map((l) => (l.kind === 'chain' || l.kind === 'rule' ? l.table : '')));
  const lines = splitLines(mergeIptables(content, {}));
  for (;;) {
    let start = lines.length - 1;
    while (start >= 0 && !lines[start].text.startsWith('*')) start--;
    if (start === -1) break;
    const table = lines[start].text.slice(1);
    const appended = [`*${table}`, ...(BUILTIN_CHAINS[table] ?? []).map((c) => `:${c} ACCEPT [0:0]`), 'COMMIT'];
    const tail = lines.slice(start).map((l) => l.text);
    if (!BUILTIN_CHAINS[table] || !kibTables.has(table) || tail.join('\n') !== appended.join('\n')) break;
    lines.splice(start);
  }
  return lines.length === 0 ? null : joinLines(lines);
}
