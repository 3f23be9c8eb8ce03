// The preseed file an installer run serves: which file the owner asked for (the packaged
// one for `auto`, else a plain file name in the VM user's home), and root's SSH keys put
// into it where the file says, with the mark @KIB_AUTHORIZED_KEYS@.
import { checkSshKey, normalizeSshKey, printable } from '../model/validate.ts';

/** The instance that installs with the packaged preseed file. */
export const AUTO = 'auto';

/** Where kib-install puts root's keys: each key single-quoted for sh, separated by spaces. */
export const KEYS_MARK = '@KIB_AUTHORIZED_KEYS@';

/** A preseed file in the owner's home: a plain file name, no directories, not hidden. */
export const PRESEED_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** What an installer run serves: the packaged preseed file or one from the owner's home. */
export type PreseedChoice = { kind: 'auto' } | { kind: 'home'; file: string };

/** Why a preseed file name is refused, or undefined if it is a plain file name. */
export function checkPreseedName(name: string): string | undefined {
  if (PRESEED_NAME.test(name) && !name.includes('..')) return undefined;
  return `invalid preseed file name '${printable(name)}': a plain file name in the VM's home directory (letters, digits, . _ + -; not starting with a dot)`;
}

/**
 * Undoes systemd's escaping of a unit instance (\xNN) so that `my\x2bseed.cfg` names
 * my+seed.cfg; a dash stays a dash (a preseed name never holds a slash).
 */
export function decodeInstance(instance: string): string {
  return instance.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Reads an install unit's instance: `auto`, or a preseed file name that passes the check. */
export function parseInstance(instance: string): PreseedChoice | string {
  const name = decodeInstance(instance);
  if (name === AUTO) return { kind: 'auto' };
  return checkPreseedName(name) ?? { kind: 'home', file: name };
}

/**
 * The SSH keys of an authorized_keys file (kib's for the VM user: `restrict,pty KEY`),
 * without their options: only the key and its comment go to the guest's root.
 */
export function keysOfAuthorizedKeys(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === '' || words[0].startsWith('#')) continue;
    for (let i = 0; i < words.length; i++) {
      const candidate = words.slice(i).join(' ');
      if (checkSshKey(candidate) === undefined) {
        keys.push(normalizeSshKey(candidate));
        break;
      }
    }
  }
  return keys;
}

/**
 * One key as a single sh word for the late command. A comment keeps only characters that
 * mean the same to sh, debconf and sshd; the key itself is base64 and its type a name.
 */
function shellWord(key: string): string {
  const [type, data, ...comment] = key.split(' ');
  const safe = comment.join(' ').replace(/[^A-Za-z0-9 @._+:=,/-]/g, '').trim();
  return `'${[type, data, ...(safe ? [safe] : [])].join(' ')}'`;
}

/** The preseed file with every KEYS_MARK replaced by the keys (deduplicated, in order). */
export function withAuthorizedKeys(preseed: string, keys: string[]): string {
  const words = [...new Set(keys)].map(shellWord).join(' ');
  return preseed.split(KEYS_MARK).join(words);
}
