// Kernel settings of kib's sysctl file, set live where they differ.
import { readFile } from 'node:fs/promises';
import { must, type LiveAction } from './action.ts';

/** `key = value` lines of a sysctl.d file. */
export function parseSysctl(text: string): { key: string; value: string }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'))
    .map((l) => {
      const at = l.indexOf('=');
      return { key: l.slice(0, at).trim(), value: l.slice(at + 1).trim() };
    });
}

/** Where a key lives under /proc/sys: dots separate, a slash stands for a dot in a name. */
const procPathOf = (key: string) => `/proc/sys/${key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;

/** The settings of a sysctl file's text that the kernel does not have yet. */
export async function planSysctl(text: string): Promise<LiveAction[]> {
  const actions: LiveAction[] = [];
  for (const { key, value } of parseSysctl(text)) {
    const current = await readFile(procPathOf(key), 'utf8').catch(() => undefined);
    if (current?.trim().replace(/\s+/g, ' ') === value) continue;
    actions.push({
      verb: 'set',
      object: `${key} = ${value}`,
      apply: () => must('sysctl', ['-q', '-w', `${key}=${value}`]).then(() => undefined),
    });
  }
  return actions;
}
