// Every VM's CD-ROM drive and the ISO library its media come from. The drive is always in
// qemu's argv, empty; the owner's console puts an ISO from the library in it (live, over
// the human monitor) and records the choice in a file in the VM user's home, which the
// supervisor reads when the VM starts and inserts over QMP before the guest runs.
// Nothing here imports more than node itself: the supervisor bundles it.

/** The drive's block backend name: what `change`, `eject` and `info block` call it. */
export const CDROM_DRIVE = 'cd0';
/** The drive's device id: what QMP's blockdev-change-medium calls it. */
export const CDROM_DEVICE = 'cdrom0';
/** The file in the VM user's home that names the ISO in the drive. */
export const MEDIUM_FILE = '.kib-cdrom';

/** qemu's arguments for the empty drive: read-only, on the IDE bus every pc machine has. */
export function cdromArgs(): string[] {
  return ['-drive', `if=none,id=${CDROM_DRIVE},media=cdrom,readonly=on`, '-device', `ide-cd,drive=${CDROM_DRIVE},id=${CDROM_DEVICE}`];
}

/** A plain file name: what owners may name in the ISO library or in their home. */
export const PLAIN_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** Whether a name is a plain file name: no path, no '..', nothing a command line could misread. */
export function isPlainFileName(name: string): boolean {
  return PLAIN_FILE_NAME.test(name) && !name.includes('..');
}

/** An ISO in the library: a plain file name ending in .iso. */
export function isIsoName(name: string): boolean {
  return isPlainFileName(name) && name.endsWith('.iso');
}

/** Reads the recorded medium: the ISO's name, or undefined when the file is missing or holds no ISO name. */
export function parseMediumFile(text: string): string | undefined {
  const name = text.split('\n')[0].trim();
  return isIsoName(name) ? name : undefined;
}
