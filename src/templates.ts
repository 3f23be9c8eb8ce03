// Every rendered text file comes from a Handlebars template in templates/. This is the
// one place that finds them, registers helpers and compiles them (once per process).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

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

const hb = Handlebars.create();
// Rendered files are configuration, not HTML: nothing is escaped.
hb.registerHelper('join', (list: unknown[], sep: unknown) => list.join(typeof sep === 'string' ? sep : ' '));

const compiled = new Map<string, Handlebars.TemplateDelegate>();
let dir: string | undefined;

/** Renders templates/NAME.hbs with the given data. */
export function render(name: string, data: object): string {
  let template = compiled.get(name);
  if (!template) {
    dir ??= templatesDir();
    template = hb.compile(readFileSync(path.join(dir, `${name}.hbs`), 'utf8'), { noEscape: true, strict: true });
    compiled.set(name, template);
  }
  return template(data);
}
