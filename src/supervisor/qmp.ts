// A QMP client over a pair of streams (qemu's -qmp stdio): reads the greeting, negotiates
// capabilities, sends commands and passes events on. Writes to a dead pipe are dropped,
// never thrown: the supervisor must not hang or crash because qemu went away.
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

export interface QmpMessage {
  QMP?: unknown;
  event?: string;
  data?: Record<string, unknown>;
  return?: unknown;
  error?: { class: string; desc: string };
}

export class Qmp extends EventEmitter {
  private buffer = '';
  private ready = false;
  private queue: string[] = [];

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    super();
    output.on('error', () => undefined);
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => this.receive(chunk));
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line === '') continue;
      let message: QmpMessage;
      try {
        message = JSON.parse(line) as QmpMessage;
      } catch {
        this.emit('garbage', line);
        continue;
      }
      if (message.QMP !== undefined) {
        this.write({ execute: 'qmp_capabilities' });
        this.ready = true;
        for (const queued of this.queue.splice(0)) this.output.write(queued);
        this.emit('ready');
      } else if (message.event) {
        this.emit('event', message);
      } else {
        this.emit('reply', message);
      }
    }
  }

  private write(command: object): void {
    const text = `${JSON.stringify(command)}\n`;
    if (!this.output.writable) return;
    this.output.write(text);
  }

  /** Sends a command (with its arguments) once capabilities are negotiated (queued until then). */
  send(execute: string, args?: Record<string, unknown>): void {
    const text = `${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`;
    if (!this.ready) this.queue.push(text);
    else if (this.output.writable) this.output.write(text);
  }
}
