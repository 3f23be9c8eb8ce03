// Storage figures: creating a linked clone (kib create --base) from a 64 MiB golden image
// (all data) and from a 4 GiB one (512 MiB of data), and ten linked clones in a row.
// Needs qemu-img and qemu-io.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const KIB = path.resolve('dist/kib.cjs');
const root = mkdtempSync(path.join(os.tmpdir(), 'kib-bench-storage-'));
cpSync('test/fixtures/clean/in', root, { recursive: true });
appendFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), 'storage = image\n');
const images = path.join(root, 'var/lib/kib/images');
mkdirSync(images, { recursive: true });

function run(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

// Golden images with data in them: 64 MiB written in full, and 4 GiB with 512 MiB written.
run('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(images, 'small.qcow2'), '64M']);
run('qemu-io', ['-c', 'write -P 0x5a 0 64M', path.join(images, 'small.qcow2')]);
run('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(images, 'big.qcow2'), '4G']);
run('qemu-io', ['-c', 'write -P 0xa5 0 512M', path.join(images, 'big.qcow2')]);
run(process.execPath, [KIB, '--root', root, '-q', 'setup']);

let n = 0;
const clone = (base) => run(process.execPath, [KIB, '--root', root, '-q', 'create', `c${n++}`, '--base', base]);
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const small = [];
const big = [];
for (let i = 0; i < 7; i++) {
  small.push(clone('small.qcow2'));
  big.push(clone('big.qcow2'));
}
const t0 = process.hrtime.bigint();
for (let i = 0; i < 10; i++) clone('big.qcow2');
const ten = Number(process.hrtime.bigint() - t0) / 1e6;
const qi = (base) => run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.join(images, base), '-F', 'qcow2', path.join(root, `raw-${n++}.qcow2`)]);
const rawSmall = median(Array.from({ length: 7 }, () => qi('small.qcow2')));
const rawBig = median(Array.from({ length: 7 }, () => qi('big.qcow2')));

const du = (f) => spawnSync('du', ['-m', path.join(images, f)], { encoding: 'utf8' }).stdout.split('\t')[0];
console.log(`golden images on disk: small.qcow2 ${du('small.qcow2')} MiB, big.qcow2 ${du('big.qcow2')} MiB`);
console.log(`kib create --base, 64 MiB golden: ${median(small).toFixed(1)} ms (median of 7)`);
console.log(`kib create --base,  4 GiB golden: ${median(big).toFixed(1)} ms (median of 7)`);
console.log(`ratio 4 GiB / 64 MiB:             ${(median(big) / median(small)).toFixed(2)}`);
console.log(`qemu-img overlay alone: 64 MiB ${rawSmall.toFixed(1)} ms, 4 GiB ${rawBig.toFixed(1)} ms`);
console.log(`ten linked clones in a row (kib create each): ${ten.toFixed(0)} ms`);
rmSync(root, { recursive: true, force: true });
