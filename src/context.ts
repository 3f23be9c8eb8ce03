// What every command gets: the root it works on and how it reports. Built once in the CLI.

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface Context {
  /** The directory kib treats as '/'. */
  root: string;
  dryRun: boolean;
  verbosity: Verbosity;
  json: boolean;
  /** Writes one line of normal output. */
  out(line: string): void;
  /** Writes one line of diagnostics. */
  err(line: string): void;
}

export function createContext(options: { root?: string; dryRun?: boolean; quiet?: boolean; verbose?: boolean; json?: boolean }): Context {
  return {
    root: options.root ?? '/',
    dryRun: options.dryRun ?? false,
    verbosity: options.quiet ? 'quiet' : options.verbose ? 'verbose' : 'normal',
    json: options.json ?? false,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}
