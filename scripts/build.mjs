// Bundles the CLI into dist/ so that start-up reads a few files instead of hundreds.
// Commands that need heavy modules (handlebars, diff, execa) load them lazily, so
// code splitting keeps them out of the path of `kib list`.
import { build } from 'esbuild';
import { chmod, rm } from 'node:fs/promises';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { kib: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __kibRequire } from 'node:module'; const require = __kibRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
await chmod('dist/kib.js', 0o755);
