// Whether a VM is running: a qemu of its user (the VM's or its installer's), whichever
// unit or command started it. Other processes of the user (its systemd, an owner's
// console session) are not the VM.
import { readdir, readFile } from 'node:fs/promises';

export async function isRunning(uid: number): Promise<boolean> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    // Name: is the command's file name, cut to 15 bytes (qemu-system-x86).
    if (real !== undefined && Number(real) === uid && /^Name:\s+qemu-system/m.test(status)) return true;
  }
  return false;
}
