// Runs every test file (test/**/*.test.ts) with uvu under tsx, echoing its output, and
// closes with one plain 'N passed, N failed' line.
import { spawn } from 'node:child_process';

const pattern = process.argv[2] ?? '.test.ts$';
const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'FORCE_COLOR')), NO_COLOR: '1' },
});
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on('close', (code) => {
  // eslint-disable-next-line no-control-regex
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (label) => Number((plain.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? 0);
  const passed = count('Passed');
  const skipped = count('Skipped');
  const failed = (plain.match(/^\s*FAIL\s/gm) ?? []).length || (code === 0 ? 0 : 1);
  process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exitCode = code ?? 1;
});
