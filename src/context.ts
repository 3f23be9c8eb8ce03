// What every command gets: the root it works on and how it reports. Built once in the CLI.
import { writeSync } from 'node:fs';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface Context {
  /** The directory kib treats as '/'. */
  root: string;
  dryRun: boolean;
  /** Whether the running host follows the files (bridges, firewall, services). */
  live: boolean;
  verbosity: Verbosity;
  json: boolean;
  /** Writes one line of normal output. */
  out(line: string): void;
  /** Writes one line of diagnostics. */
  err(line: string): void;
}

export function createContext(options: { root?: string; dryRun?: boolean; live?: boolean; quiet?: boolean; verbose?: boolean; json?: boolean }): Context {
  const root = options.root ?? '/';
  return {
    root,
    dryRun: options.dryRun ?? false,
    // A root other than / is not the running host unless asked for.
    live: options.live ?? root === '/',
    verbosity: options.quiet ? 'quiet' : options.verbose ? 'verbose' : 'normal',
    json: options.json ?? false,
    out: (line) => writeLine(1, line),
    err: (line) => writeLine(2, line),
  };
}

/**
 * Writes a line straight to a file descriptor: no stream set-up for a few lines of output,
 * and no reordering against other writes. A reader that went away (EPIPE) is not an
 * error; a full pipe (EAGAIN) is waited out.
 */
function writeLine(fd: number, line: string): void {
  writeText(fd, `${line}\n`);
}

/** Writes text straight to a file descriptor (see writeLine); a byte string as latin1. */
export function writeText(fd: number, text: string, encoding: BufferEncoding = 'utf8'): void {
  let buffer = Buffer.from(text, encoding);
  while (buffer.length > 0) {
    try {
      buffer = buffer.subarray(writeSync(fd, buffer));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}
