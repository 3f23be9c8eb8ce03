// debian/copyright names every npm package that the build bundles into kib's programs,
// with the license its package.json gives, and no package that is not bundled.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO } from '../helpers.ts';

/** SPDX identifiers as debian/copyright spells them. */
const DEP5_NAME: Record<string, string> = { MIT: 'Expat' };

/** The build swaps src/template-source.ts for templates on the Handlebars runtime alone. */
const runtimeTemplates: Plugin = {
  name: 'runtime-templates',
  setup(b) {
    b.onLoad({ filter: /template-source\.ts$/ }, () => ({
      loader: 'js',
      resolveDir: path.join(REPO, 'src'),
      contents: "import Runtime from 'handlebars/runtime'; export const handlebars = Runtime.create(); export function loadTemplate() {}",
    }));
  },
};

/** The package directories (node_modules/NAME, nested ones included) bundled by the build. */
async function bundledPackages(): Promise<string[]> {
  const script = readFileSync(path.join(REPO, 'scripts', 'build.mjs'), 'utf8');
  const entries = [...script.matchAll(/entryPoints: \['([^']+)'\]/g)].map((m) => m[1]);
  assert.ok(entries.includes('src/cli/main.ts'), `entry points found in scripts/build.mjs: ${entries.join(', ')}`);
  const dirs = new Set<string>();
  for (const entry of entries) {
    const result = await build({
      absWorkingDir: REPO,
      entryPoints: [entry],
      bundle: true,
      write: false,
      metafile: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [runtimeTemplates],
      alias: { assert: './scripts/shims/assert.cjs' },
    });
    for (const input of Object.keys(result.metafile.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) dirs.add(m[1]);
    }
  }
  return [...dirs].sort();
}

/** The License of each node_modules/DIR/* pattern in debian/copyright. */
function copyrightFiles(): Map<string, string> {
  const text = readFileSync(path.join(REPO, 'debian', 'copyright'), 'utf8');
  const licenses = new Map<string, string>();
  for (const paragraph of text.split(/\n\s*\n/)) {
    const files = /^Files:((?:.*\n?)(?: .*\n?)*)/m.exec(paragraph)?.[1];
    const license = /^License: (\S+)/m.exec(paragraph)?.[1];
    if (!files || !license) continue;
    for (const pattern of files.split(/\s+/).filter((p) => p.startsWith('node_modules/'))) licenses.set(pattern.replace(/\/\*$/, ''), license);
  }
  return licenses;
}

test('every bundled npm package is in debian/copyright with its license', async () => {
  const listed = copyrightFiles();
  const bundled = await bundledPackages();
  assert.ok(bundled.includes('node_modules/yargs'), `bundled: ${bundled.join(', ')}`);
  for (const dir of bundled) {
    const pkg = JSON.parse(readFileSync(path.join(REPO, dir, 'package.json'), 'utf8')) as { name: string; license?: string };
    assert.ok(listed.has(dir), `debian/copyright has no paragraph for ${dir} (${pkg.name}, ${pkg.license})`);
    assert.is(listed.get(dir), DEP5_NAME[pkg.license ?? ''] ?? pkg.license, `the license of ${dir}`);
  }
  for (const dir of listed.keys()) assert.ok(bundled.includes(dir), `debian/copyright lists ${dir}, which no program bundles`);
});

test.run();
