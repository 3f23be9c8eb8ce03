// kib console: the terminal joined to a VM's serial console, the unix socket qemu serves
// in the VM's runtime directory. On a terminal it is raw (every key goes to the guest)
// and ^] leaves; with stdin not a terminal it copies both ways until stdin ends or the
// socket closes, so that scripts can use it too.
import { existsSync, lstatSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Context } from '../context.ts';
import { KibError } from '../errors.ts';
import { runtimeDirOf } from '../qemu/argv.ts';
import { userRuntimeDirOf, vmRuntime } from './user-manager.ts';

/** ^] leaves the console, as in telnet and virsh. */
export const ESCAPE = 0x1d;
const POLL_MS = 100;

export interface ConsoleOptions {
  /** Seconds to wait for the socket to appear (the VM may be starting). */
  waitSeconds: number;
  /** The VM user's runtime directory; default /run/user/UID. */
  runtimeDir?: string;
}

/** The serial console's socket of a VM, in its user's runtime directory. */
export const consoleSocketOf = (name: string, runtimeDir: string) => path.join(runtimeDirOf(name, runtimeDir), 'ttyS0.sock');

/** Attaches to a VM's serial console until ^], the end of stdin, or the console closing. */
export async function attachConsole(ctx: Context, name: string, options: ConsoleOptions): Promise<void> {
  const vm = await vmRuntime(ctx, name);
  await attachConsoleSocket(ctx, name, consoleSocketOf(name, path.resolve(options.runtimeDir ?? userRuntimeDirOf(vm.uid))), options.waitSeconds);
}

/** Attaches to the serial console at a known socket (the VM user's own console knows its VM without the state). */
export async function attachConsoleSocket(ctx: Context, name: string, socketPath: string, waitSeconds: number): Promise<void> {
  const note = (line: string) => ctx.verbosity !== 'quiet' && ctx.err(line);
  const socket = await connectWaiting(socketPath, waitSeconds, () => note(`waiting for VM ${name}'s console (up to ${waitSeconds}s)`));
  if (!socket) throw new KibError('system', `VM ${name} is not running: no console at ${socketPath}${waitSeconds > 0 ? ` after ${waitSeconds}s` : ''}`);
  const tty = process.stdin.isTTY === true;
  if (tty) note(`connected to VM ${name}'s console; ^] leaves`);
  const ending = await pump(socket, tty);
  if (ending === 'escape') note(`${tty ? '\n' : ''}left VM ${name}'s console`);
  else if (ending === 'closed' && tty) note(`\nVM ${name}'s console closed (the VM stopped)`);
  else if (ending !== 'closed' && ending !== 'eof') throw new KibError('system', `VM ${name}'s console: ${ending}`);
}

/**
 * Connects to the socket, retrying while it is missing or refuses (qemu not yet listening)
 * until the deadline; undefined when it never answered. `onWait` runs once, on the first miss.
 */
async function connectWaiting(socketPath: string, waitSeconds: number, onWait: () => void): Promise<net.Socket | undefined> {
  const deadline = Date.now() + waitSeconds * 1000;
  let waited = false;
  for (;;) {
    const outcome = await connect(socketPath);
    if (outcome instanceof net.Socket) return outcome;
    if (outcome !== 'ENOENT' && outcome !== 'ECONNREFUSED') {
      throw new KibError('system', `cannot connect to ${socketPath}: ${outcome}`);
    }
    if (Date.now() + POLL_MS > deadline) return undefined;
    if (!waited) onWait();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** One connection attempt: the socket, or the error code. */
function connect(socketPath: string): Promise<net.Socket | string> {
  if (!existsSync(socketPath)) return Promise.resolve('ENOENT');
  // The directory is the VM's, writable by its qemu: connect to a socket, never through a link.
  if (!lstatSync(socketPath).isSocket()) return Promise.resolve('not a socket');
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code ?? error.message);
    });
  });
}

/**
 * Copies stdin to the socket and the socket to stdout. Ends on ^] ('escape'), stdin's end
 * ('eof', once the guest side has closed too), the socket closing ('closed'), or a
 * terminating signal or socket error (its description). The terminal is restored in
 * every case.
 */
function pump(socket: net.Socket, tty: boolean): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let done = false;
    let stdinEnded = false;
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
    const finish = (ending: string) => {
      if (done) return;
      done = true;
      stdin.off('data', onInput);
      stdin.off('end', onEnd);
      for (const s of signals) process.off(s, onSignal);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdin.unref?.();
      socket.unpipe(process.stdout);
      socket.destroy();
      resolve(ending);
    };
    const onInput = (chunk: Buffer) => {
      const escape = chunk.indexOf(ESCAPE);
      const data = escape === -1 ? chunk : chunk.subarray(0, escape);
      if (data.length > 0 && !socket.write(data)) {
        stdin.pause();
        socket.once('drain', () => !done && stdin.resume());
      }
      if (escape !== -1) finish('escape');
    };
    // qemu closes a console connection once its input ends, after what is in flight.
    const onEnd = () => {
      stdinEnded = true;
      socket.end();
    };
    const onSignal = (signal: NodeJS.Signals) => finish(`ended by ${signal}`);
    for (const s of signals) process.on(s, onSignal);
    socket.on('error', (error) => finish(error.message));
    socket.on('close', () => finish(stdinEnded ? 'eof' : 'closed'));
    socket.pipe(process.stdout, { end: false });
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}
