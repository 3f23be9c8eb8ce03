// Every rendered text file comes from a Handlebars template in templates/. This is the
// one place that registers helpers and renders them; each template is loaded once.
import type { TemplateDelegate } from 'handlebars';
import { handlebars, loadTemplate } from './template-source.ts';

// Rendered files are configuration, not HTML: nothing is escaped (noEscape at compile).
handlebars.registerHelper('join', (list: unknown[], sep: unknown) => list.join(typeof sep === 'string' ? sep : ' '));

const loaded = new Map<string, TemplateDelegate>();

/** Renders templates/NAME.hbs with the given data. */
export function render(name: string, data: object): string {
  let template = loaded.get(name);
  if (!template) {
    template = loadTemplate(name);
    loaded.set(name, template);
  }
  return template(data);
}
