// The iptables-save format (etc/iptables/rules.v4 and rules.v6), parsed into lines owned
// by kib (KIB_* chains, their rules, and the jumps into them from built-in chains) and
// foreign lines, which keep their exact bytes and order.
import { eolStyle, joinLines, splitLines, type Line } from './lines.ts';
import { splitWords } from './words.ts';

export const KIB_CHAIN_PREFIX = 'KIB_';

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

/** Whether a line belongs to kib: a KIB_* chain, a rule in one, or a jump to one. */
export function isKibLine(l: IptLine): boolean {
  if (l.kind === 'chain') return l.chain.startsWith(KIB_CHAIN_PREFIX);
  if (l.kind === 'rule') {
    return l.chain.startsWith(KIB_CHAIN_PREFIX) || (l.target?.startsWith(KIB_CHAIN_PREFIX) ?? false);
  }
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

/**
 * Replaces kib's lines with the desired ones. Chains are declared after the table's other
 * chains; each jump goes right before the first foreign DROP/REJECT of its built-in chain
 * (so that a final reject does not shadow it), or at the chain's end; kib's own
 * rules go before the table's COMMIT. Tables the file lacks are appended whole.
 */
export function mergeIptables(content: string, desired: KibRules): string {
  const parsed = parseIptables(content);
  const eol = eolStyle(parsed.map((l) => l.line));
  const mk = (text: string): Line => ({ text, eol });
  const foreign = parsed.filter((l) => !isKibLine(l));
  const out: Line[] = [];
  const seen = new Set<string>();

  for (let i = 0; i < foreign.length; i++) {
    const l = foreign[i];
    const want = 'table' in l ? desired[l.table] : undefined;
    if (l.kind === 'table') seen.add(l.table);
    if (want && isLastChainSlot(foreign, i)) {
      out.push(withEol(l.line, eol));
      out.push(...want.chains.map((c) => mk(`:${c} - [0:0]`)));
      continue;
    }
    if (want && l.kind === 'rule') {
      for (const jump of jumpsBefore(foreign, i, want.jumps)) out.push(mk(jump));
    }
    if (want && l.kind === 'commit') {
      for (const jump of jumpsAtCommit(foreign, i, want.jumps)) out.push(mk(jump));
      out.push(...want.rules.map(mk));
    }
    out.push(i === foreign.length - 1 ? l.line : withEol(l.line, eol));
  }

  for (const [table, want] of Object.entries(desired)) {
    if (seen.has(table)) continue;
    if (out.length > 0) out[out.length - 1] = withEol(out[out.length - 1], eol);
    out.push(mk(`*${table}`));
    out.push(...want.builtins.map((c) => mk(`:${c} ACCEPT [0:0]`)));
    out.push(...want.chains.map((c) => mk(`:${c} - [0:0]`)));
    out.push(...want.jumps.map(mk), ...want.rules.map(mk), mk('COMMIT'));
  }
  return joinLines(out);
}

function withEol(line: Line, eol: string): Line {
  return line.eol === '' ? { ...line, eol } : line;
}

/** True for the line after which kib's chain declarations go: the table's last chain line, or its header if it has none. */
function isLastChainSlot(lines: IptLine[], i: number): boolean {
  const l = lines[i];
  if (l.kind !== 'chain' && l.kind !== 'table') return false;
  const next = lines.slice(i + 1).find((n) => n.kind !== 'other');
  return !(next && next.kind === 'chain' && next.table === l.table);
}

function chainOfJump(jump: string): string {
  return jump.split(/\s+/)[1];
}

/** Jumps that go right before rule i: it is the first DROP/REJECT of the jump's chain. */
function jumpsBefore(lines: IptLine[], i: number, jumps: string[]): string[] {
  const l = lines[i];
  if (l.kind !== 'rule' || !TERMINAL.has(l.target ?? '')) return [];
  return jumps.filter((jump) => chainOfJump(jump) === l.chain && firstTerminal(lines, l.table, l.chain) === i);
}

/** Jumps whose chain has no DROP/REJECT go before COMMIT, which appends them after the chain's last rule. */
function jumpsAtCommit(lines: IptLine[], commit: number, jumps: string[]): string[] {
  const table = (lines[commit] as { table: string }).table;
  return jumps.filter((jump) => firstTerminal(lines, table, chainOfJump(jump)) === -1);
}

function firstTerminal(lines: IptLine[], table: string, chain: string): number {
  return lines.findIndex(
    (l) => l.kind === 'rule' && l.table === table && l.chain === chain && TERMINAL.has(l.target ?? ''),
  );
}
