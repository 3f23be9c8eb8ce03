// qemu's human monitor, on the unix socket in the VM's runtime directory: the console's
// way to act on a running VM (media, reset) while QMP stays the supervisor's. One short
// connection per command, so that the monitor is never held.
import net from 'node:net';
import path from 'node:path';
import { KibError } from '../errors.ts';
import { runtimeDirOf } from '../qemu/argv.ts';

const PROMPT = '(qemu) ';
const TIMEOUT_MS = 10_000;

/** The monitor's socket of a VM, in its user's runtime directory. */
export const monitorSocketOf = (name: string, runtimeDir: string) => path.join(runtimeDirOf(name, runtimeDir), 'monitor.sock');

/**
 * Runs one monitor command and returns what qemu answered, without the echo of the
 * command and terminal codes. The command is built by the console from validated parts
 * only; a line break in it would be a second command, so it is refused here too. With
 * `endsQemu` (system_reset under -no-reboot), qemu closing the monitor is the answer.
 */
export async function monitorCommand(socketPath: string, command: string, options: { endsQemu?: boolean } = {}): Promise<string> {
  if (!/^[\x20-\x7e]+$/.test(command)) throw new Error(`not a monitor command line: ${JSON.stringify(command)}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let received = '';
    let sent = false;
    const finish = (error: Error | undefined, answer = '') => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer);
    };
    const timer = setTimeout(() => finish(new KibError('system', `qemu's monitor did not answer '${command}' within ${TIMEOUT_MS / 1000}s`)), TIMEOUT_MS);
    socket.setEncoding('latin1');
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(new KibError('system', error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'the VM is not running (no monitor)' : `qemu's monitor: ${error.message}`)),
    );
    socket.on('close', () => finish(sent && options.endsQemu ? undefined : new KibError('system', "qemu's monitor closed the connection")));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!received.endsWith(PROMPT)) return;
      if (!sent) {
        // The greeting and the first prompt: the monitor is ready for the command.
        sent = true;
        received = '';
        socket.write(`${command}\n`);
        return;
      }
      finish(undefined, cleanAnswer(received.slice(0, -PROMPT.length)));
    });
  });
}

/**
 * The monitor's answer as plain lines. qemu echoes the command as it reads it, redrawing
 * the line after each character, up to the first line break; the answer follows it.
 */
export function cleanAnswer(raw: string): string {
  const answer = raw.slice(raw.indexOf('\n') + 1);
  // eslint-disable-next-line no-control-regex
  return answer.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b./g, '').replace(/\r/g, '').trim();
}
