// Whether a VM is running: any process of its user (qemu runs as the VM's own user).
import { readdir, readFile } from 'node:fs/promises';

export async function isRunning(uid: number): Promise<boolean> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (real !== undefined && Number(real) === uid) return true;
  }
  return false;
}
