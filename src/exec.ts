// The one module that starts processes. execa is loaded on first use, so commands that
// start none do not pay for it.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to completion without a shell; never throws for a non-zero exit. `env`
 * adds to kib's environment, or with `onlyEnv` is the whole environment (for a program run
 * as another user, which should see nothing of root's). A program that cannot be started
 * reports why on stderr.
 */
export async function run(file: string, args: string[], options: { input?: string; env?: Record<string, string>; onlyEnv?: boolean } = {}): Promise<RunResult> {
  const { execa } = await import('execa');
  const result = await execa(file, args, {
    reject: false,
    input: options.input,
    env: options.env,
    extendEnv: !options.onlyEnv,
    stdin: options.input === undefined ? 'ignore' : undefined,
  });
  const notStarted = result.exitCode === undefined && !result.signal;
  return {
    exitCode: result.exitCode ?? (result.signal ? 128 : 1),
    stdout: String(result.stdout ?? ''),
    stderr: notStarted && !result.stderr ? `cannot run ${file}: ${(result as { code?: string }).code ?? result.shortMessage}` : String(result.stderr ?? ''),
  };
}

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The full path of an installed program, or undefined. */
export async function which(program: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH];
  for (const dir of dirs) {
    const candidate = path.join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Takes an exclusive flock(2) on an open file, waiting as long as another holder has it.
 * flock(1) locks the open file description it inherits, which this process shares, so
 * the lock stays held after flock(1) exits and is released when this process closes the
 * file or dies, SIGKILL included.
 */
export async function flockExclusive(fd: number): Promise<void> {
  const child = spawn('flock', ['--exclusive', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error(`flock failed: ${stderr.trim() || `exit ${code}`}`);
}

/**
 * Starts a program in a session of its own with its output going to the open file `log`,
 * and lets it outlive this process (what a service manager would run); returns its pid.
 */
export function spawnDetached(file: string, args: string[], log: number, env: Record<string, string>): number {
  const child = spawn(file, args, { detached: true, stdio: ['ignore', log, log], env });
  child.on('error', () => undefined);
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot run ${file}`);
  return child.pid;
}
