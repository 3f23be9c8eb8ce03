// kib(8) documents every command, option, VM flag and configuration key that kib has:
// the commands and options come from the built CLI's own --help, the keys from the
// configuration schema.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO, kibOk, tempDir, cleanup } from '../helpers.ts';

const MAN = path.join(REPO, 'debian', 'man', 'kib.8');

/** A troff request's arguments, split as troff does: by spaces, "quotes" group. */
function troffArgs(text: string): string[] {
  const args: string[] = [];
  const re = /"((?:[^"]|"")*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) args.push(m[1] ?? m[2]);
  return args;
}

/** Plain text of a troff line: font changes dropped, escaped hyphens and spaces as such. */
function plain(text: string): string {
  return text.replace(/\\f[BIRP]/g, '').replace(/\\-/g, '-').replace(/\\ /g, ' ').replace(/\\\(en/g, '-');
}

/** The tag line of every .TP entry, as text, by the .SH section it is in. */
function tagsBySection(source: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  const lines = source.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('.SH ')) {
      section = plain(line.slice(4)).replace(/"/g, '');
      sections.set(section, []);
    } else if (line === '.TP' && i + 1 < lines.length) {
      const tag = lines[i + 1];
      const m = /^\.(B|I|BI|BR|IB|IR|RB|RI)\s+(.*)$/.exec(tag);
      // Alternating-font macros join their arguments; .B and .I separate them by spaces.
      const text = m ? troffArgs(m[2]).join(m[1].length === 2 ? '' : ' ') : tag;
      sections.get(section)?.push(plain(text).trim());
    }
  }
  return sections;
}

/** The words of a tag, without punctuation around options. */
const words = (tag: string) => tag.split(/[\s,=[\]|]+/);

/** Commands listed under 'Commands:' in a help text, without the leading 'kib'. */
function commandsOf(help: string): string[] {
  const block = help.split(/^Commands:$/m)[1]?.split(/^\S.*:$/m)[0] ?? '';
  return [...block.matchAll(/^ {2}kib ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)/gm)].map((m) => m[1]);
}

/** Every --option a help text lists. */
function optionsOf(help: string): string[] {
  return [...help.matchAll(/^\s+(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]);
}

/** The keys of the configuration schema in src/model/config.ts. */
function configKeys(): string[] {
  const source = readFileSync(path.join(REPO, 'src', 'model', 'config.ts'), 'utf8');
  const schema = source.split('const ConfigSchema = z')[1].split('.strict();')[0];
  return [...schema.matchAll(/^ {4}'?([a-z][a-z0-9-]*)'?: /gm)].map((m) => m[1]);
}

const source = readFileSync(MAN, 'utf8');
const tags = tagsBySection(source);
const root = tempDir();
const help = (...args: string[]) => kibOk(root, ...args, '--help').stdout;
const topHelp = help();
const globals = optionsOf(topHelp);

test.after(() => cleanup(root));

test('every command and subcommand has an entry under COMMANDS', () => {
  const entries = tags.get('COMMANDS') ?? [];
  const commands = commandsOf(topHelp);
  assert.ok(commands.length >= 15, `commands found in kib --help: ${commands.join(', ')}`);
  for (const command of commands) {
    const name = command.split(' ')[0];
    const subcommands = commandsOf(help(name)).map((c) => c.replace(/ <.*$/, ''));
    for (const c of subcommands.length > 0 ? subcommands : [name]) {
      assert.ok(entries.some((e) => e === c || e.startsWith(`${c} `)), `kib.8 has no entry for 'kib ${c}'`);
    }
  }
});

test('every global option has an entry under GLOBAL OPTIONS', () => {
  const entries = tags.get('GLOBAL OPTIONS') ?? [];
  assert.ok(globals.includes('--root') && globals.includes('--live'));
  for (const option of globals) {
    assert.ok(entries.some((e) => words(e).includes(option)), `kib.8 has no entry for ${option}`);
  }
});

test("every command's own option is documented with it, the VM flags under VM FLAGS", () => {
  const commandEntries = tags.get('COMMANDS') ?? [];
  const flagEntries = tags.get('VM FLAGS') ?? [];
  for (const command of commandsOf(topHelp)) {
    const name = command.split(' ')[0];
    const subcommands = commandsOf(help(name)).map((c) => c.replace(/ <.*$/, ''));
    for (const c of subcommands.length > 0 ? subcommands : [name]) {
      const own = optionsOf(help(...c.split(' '))).filter((o) => !globals.includes(o));
      for (const option of own) {
        if (name === 'create' || name === 'change') {
          assert.ok(flagEntries.some((e) => words(e).includes(option)), `kib.8 has no VM flag entry for ${option}`);
        } else {
          assert.ok(commandEntries.some((e) => words(e).includes(option)), `kib.8 does not document ${option} of 'kib ${c}'`);
        }
      }
    }
  }
});

test('every configuration key has an entry under CONFIGURATION', () => {
  const entries = tags.get('CONFIGURATION') ?? [];
  const keys = configKeys();
  assert.ok(keys.includes('domain') && keys.includes('image-directory'), `keys found: ${keys.join(', ')}`);
  for (const key of keys) {
    assert.ok(entries.some((e) => e.split(' ')[0] === key), `kib.8 has no entry for the key '${key}'`);
  }
});

test.run();
