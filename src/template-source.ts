// Where templates come from when kib runs from source: compiled from templates/*.hbs at
// first use. The build replaces this module with one holding the same templates
// precompiled, on the Handlebars runtime alone (scripts/build.mjs).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

export const handlebars = Handlebars.create();

/** The templates directory: KIB_TEMPLATES, else the nearest templates/ above this module. */
function templatesDir(): string {
  if (process.env.KIB_TEMPLATES) return process.env.KIB_TEMPLATES;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'templates');
    if (existsSync(path.join(candidate, 'sysctl.conf.hbs'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the templates directory (set KIB_TEMPLATES)');
    dir = parent;
  }
}

export const COMPILE_OPTIONS = { noEscape: true };

export function loadTemplate(name: string): Handlebars.TemplateDelegate {
  const source = readFileSync(path.join(templatesDir(), `${name}.hbs`), 'utf8');
  return handlebars.compile(source, COMPILE_OPTIONS);
}
