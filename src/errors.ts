// Typed errors: every failure kib reports carries a code that the CLI maps to an exit
// status, and a one-line message that names what was wrong.

export type ErrorCode =
  | 'usage' // bad arguments or flag values
  | 'config' // /etc/kvm-in-a-box.cfg is missing or invalid
  | 'state' // the state file is corrupt, of an unknown version, or inconsistent
  | 'conflict' // a foreign entry collides with one kib needs
  | 'not-found' // no such VM
  | 'exists' // the VM already exists
  | 'validate' // a rendered candidate file failed its validator
  | 'exhausted' // no free uid, address or port is left
  | 'system'; // an operation on the host failed

export class KibError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'KibError';
  }
}

/** Exit statuses: 2 for anything the caller can fix by asking differently, 1 otherwise. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof KibError) {
    return ['usage', 'not-found', 'exists'].includes(error.code) ? 2 : 1;
  }
  return 1;
}

/** Several problems found while planning, reported together. */
export function combineErrors(errors: KibError[]): KibError {
  if (errors.length === 1) return errors[0];
  const message = errors.map((e) => e.message).join('; ');
  return new KibError(errors[0].code, message);
}
