// The interactive menu: a banner, a prompt with line editing and history (node:readline),
// and one command per line until quit or the end of input. ^C drops the line being typed;
// ^Z and ^\ do nothing: the menu is all there is. A line that grows past MAX_LINE is
// dropped as it is typed; binary input is refused when the line is entered.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { commandWords, lineProblem, MAX_LINE, runLine, TOO_LONG, type Session } from './commands.ts';
import { listIsos } from './media.ts';

/** The history file in the VM user's home (kept in memory only where that is not writable). */
export const HISTORY_FILE = '.kib_history';
const HISTORY_SIZE = 200;
/** Piped input without a line break for this long is not a command: the session ends. */
const MAX_PENDING = 64 * 1024;

/** Runs the menu until quit or the end of input; resolves to the exit status. The banner is for terminals. */
export async function runMenu(s: Session, banner: () => Promise<string[]>, input: NodeJS.ReadStream = process.stdin): Promise<number> {
  const tty = input.isTTY === true && process.stdout.isTTY === true;
  if (tty) for (const line of await banner()) s.ctx.out(line);
  const historyPath = path.join(s.self.home, HISTORY_FILE);
  let history = tty ? loadHistory(historyPath) : [];
  const rl = readline.createInterface({
    input,
    output: process.stdout,
    terminal: tty,
    prompt: `${s.self.name}> `,
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: tty ? completer(s) : undefined,
    crlfDelay: Infinity,
  });

  // Lines typed while a command runs wait their turn.
  const queue: string[] = [];
  let busy = false;
  let ended = false;
  let done = false;
  let discarding = false;
  let pending = 0;

  return new Promise((resolve) => {
    const finish = (code: number) => {
      if (done) return;
      done = true;
      if (tty) saveHistory(historyPath, history);
      rl.close();
      resolve(code);
    };
    const work = async () => {
      if (busy) return;
      busy = true;
      while (queue.length > 0 && !done) {
        if ((await runLine(menu, queue.shift()!)) === 'quit') return finish(0);
        if (tty) saveHistory(historyPath, history);
      }
      busy = false;
      if (ended) finish(0);
      else if (tty) rl.prompt();
    };
    const withTerminal = async (run: () => Promise<void>) => {
      // The serial console reads the terminal itself: the menu's listeners step aside.
      const event = tty ? 'keypress' : 'data';
      const saved = input.listeners(event) as ((...args: unknown[]) => void)[];
      input.removeAllListeners(event);
      try {
        await run();
      } finally {
        for (const listener of saved) input.on(event, listener);
        if (tty) input.setRawMode(true);
        input.ref?.();
        input.resume();
      }
    };
    const menu: Session = { ...s, withTerminal };

    rl.on('line', (line) => {
      queue.push(line);
      void work();
    });
    rl.on('close', () => {
      ended = true;
      if (!busy) {
        if (tty && !done) process.stdout.write('\n');
        finish(0);
      }
    });
    rl.on('SIGINT', () => {
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      process.stdout.write('^C\n');
      if (!busy) rl.prompt();
    });
    rl.on('SIGTSTP', () => undefined);
    rl.on('history', (lines: string[]) => (history = lines));

    if (tty) {
      // Every key passes this gate before readline: a line that outgrows MAX_LINE is
      // dropped, and what follows it is swallowed up to the next Enter.
      const edit = input.listeners('keypress') as ((s: string | undefined, key: readline.Key) => void)[];
      for (const listener of edit) input.removeListener('keypress', listener);
      input.on('keypress', (text: string | undefined, key: readline.Key) => {
        if (discarding) {
          if (key?.name === 'return' || key?.name === 'enter' || (key?.ctrl && key.name === 'c')) discarding = false;
          return;
        }
        for (const listener of edit) listener(text, key);
        if (rl.line.length <= MAX_LINE) return;
        rl.write(null, { ctrl: true, name: 'u' });
        discarding = true;
        process.stdout.write(`\n${TOO_LONG}\n`);
        rl.prompt();
      });
    } else {
      input.on('data', (chunk: Buffer) => {
        const newline = Math.max(chunk.lastIndexOf(10), chunk.lastIndexOf(13));
        pending = newline === -1 ? pending + chunk.length : chunk.length - newline - 1;
        if (pending > MAX_PENDING) {
          s.ctx.err(`input without a line break for more than ${MAX_PENDING} bytes: closing`);
          finish(2);
        }
      });
    }
    if (tty) rl.prompt();
  });
}

/** Completes command words, and ISO names after attach-iso. */
function completer(s: Session) {
  return (line: string, callback: (error: null, result: [string[], string]) => void) => {
    const words = line.trimStart().split(/\s+/);
    if (words.length <= 1) {
      const hits = commandWords().filter((w) => w.startsWith(words[0] ?? ''));
      return callback(null, [hits, words[0] ?? '']);
    }
    if (words.length === 2 && words[0] === 'attach-iso') {
      void s
        .isoDir()
        .then(listIsos)
        .then(
          (isos) => callback(null, [isos.filter((i) => i.startsWith(words[1])), words[1]]),
          () => callback(null, [[], words[1]]),
        );
      return;
    }
    if (words[0] === 'install' && words.length <= 3) {
      const options = words.length === 2 ? ['debian'] : ['auto'];
      const last = words[words.length - 1];
      return callback(null, [options.filter((o) => o.startsWith(last)), last]);
    }
    callback(null, [[], line]);
  };
}

/** The saved history, newest first: only lines the menu would take. */
function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !lineProblem(l))
      .slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** Keeps the history in the home directory when it can; in memory only otherwise. */
function saveHistory(file: string, history: string[]): void {
  try {
    writeFileSync(file, `${history.filter((l) => !lineProblem(l)).join('\n')}\n`, { mode: 0o600 });
  } catch {
    // a read-only home: the history lives as long as the session
  }
}
