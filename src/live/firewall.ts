// kib's firewall rules in the running kernel: the live tables, as iptables-save prints
// them, with kib's chains, rules and jumps merged in exactly as into the rules file.
// Foreign live rules (another tool's, or the admin's not yet saved) are read back and
// restored as they were; a live ruleset that already matches is left alone.
import { mergeIptables } from '../formats/iptables-save.ts';
import { kibRules } from '../resources/network.ts';
import type { Desired } from '../resources/desired.ts';
import { must, type LiveAction } from './action.ts';

/** iptables-save output without what differs between two saves of the same rules. */
function normalize(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim().replace(/^\[\d+:\d+\]\s+/, '').replace(/\s+\[\d+:\d+\]$/, ''))
    .filter((l) => l !== '' && !l.startsWith('#'))
    .join('\n');
}

/** Loads the live rules with kib's merged in, or (teardown) with kib's taken out. */
export async function planFirewall(d: Desired, family: 4 | 6, teardown = false): Promise<LiveAction[]> {
  const prefix = family === 4 ? 'iptables' : 'ip6tables';
  const live = await must(`${prefix}-save`, []);
  const merged = mergeIptables(live, teardown ? {} : kibRules(d, family));
  if (normalize(merged) === normalize(live)) return [];
  return [
    {
      verb: 'load',
      object: `IPv${family} firewall rules (${prefix}-restore)`,
      apply: () => must(`${prefix}-restore`, [], merged).then(() => undefined),
    },
  ];
}
