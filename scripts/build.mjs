// Bundles the CLI into one CommonJS file, dist/kib-main.cjs, and records a V8 code cache
// for it, so that start-up compiles almost nothing: dist/kib.cjs (the launcher) runs the
// bundle with the cache. Modules loaded with import() (handlebars, diff, execa) stay
// unevaluated until a command needs them.
import { build } from 'esbuild';
import Handlebars from 'handlebars';
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** src/template-source.ts, replaced by the templates precompiled for the Handlebars runtime. */
const precompiledTemplates = {
  name: 'precompiled-templates',
  setup(b) {
    b.onLoad({ filter: /template-source\.ts$/ }, async () => {
      const names = (await readdir('templates')).filter((f) => f.endsWith('.hbs')).sort();
      const specs = await Promise.all(
        names.map(async (f) => {
          const spec = Handlebars.precompile(await readFile(`templates/${f}`, 'utf8'), { noEscape: true });
          return `  ${JSON.stringify(f.slice(0, -4))}: ${spec},`;
        }),
      );
      return {
        loader: 'js',
        resolveDir: 'src',
        contents: [
          "import Runtime from 'handlebars/runtime';",
          'export const handlebars = Runtime.create();',
          `const specs = {\n${specs.join('\n')}\n};`,
          'export function loadTemplate(name) {',
          "  if (!specs[name]) throw new Error(`no template named ${name}`);",
          '  return handlebars.template(specs[name]);',
          '}',
        ].join('\n'),
      };
    });
  },
};

/** zod re-exports every locale; kib's messages are English, so only that one is bundled. */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: path.join(args.resolveDir, '..', 'locales', 'en.js') } : undefined,
    );
  },
};

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/kib-main.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  define: { 'import.meta.url': '__kibModuleUrl' },
  banner: { js: "const __kibModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
  plugins: [precompiledTemplates, englishOnly],
  alias: { assert: './scripts/shims/assert.cjs' },
  minifyWhitespace: true,
  minifySyntax: true,
});
await copyFile('src/cli/launcher.cjs', 'dist/kib.cjs');
// The supervisor is small and long-running: a plain bundle.
await build({
  entryPoints: ['src/supervisor/main.ts'],
  outfile: 'dist/kib-supervise.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
await chmod('dist/kib-supervise.cjs', 0o755);
/** A program of its own, run by a unit or a login: one executable bundle with the templates precompiled. */
async function buildProgram(entry, out) {
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { 'import.meta.url': '__kibModuleUrl' },
    banner: { js: "#!/usr/bin/env node\nconst __kibModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
    plugins: [precompiledTemplates, englishOnly],
  });
  await chmod(out, 0o755);
}
// The installer (run once per install, as the VM's user): the supervisor plus the config,
// the ISO and the preseed file.
await buildProgram('src/install/main.ts', 'dist/kib-install.cjs');
// The VM owner's console (the login shell of every VM user), started once per SSH session
// or command.
await buildProgram('src/console/main.ts', 'dist/kib-console.cjs');
await chmod('dist/kib.cjs', 0o755);

// Warm the cache with a real `kib list` on a scratch copy of the clean test host. Start-up
// is what every command shares; a cache holding more (a whole reconcile) was measured to
// cost more to load than it saves.
const root = await mkdtemp(path.join(os.tmpdir(), 'kib-build-'));
await cp('test/fixtures/clean/in', root, { recursive: true });
const kib = (args, env = {}) => spawnSync(process.execPath, ['dist/kib.cjs', '--root', root, '-q', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
const setup = kib(['setup']);
const warm = kib(['list'], { KIB_WRITE_CODE_CACHE: '1' });
await rm(root, { recursive: true, force: true });
if (setup.status !== 0 || warm.status !== 0) throw new Error(`warming the code cache failed: ${setup.stderr}${warm.stderr}`);
