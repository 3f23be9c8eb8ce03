// The kib command line as yargs sees it: global options and every command.
import yargs from 'yargs';
import { KibError } from '../errors.ts';
import { applyCommand } from './commands/apply.ts';
import { diskCommand } from './commands/disk.ts';
import { imagesCommand } from './commands/images.ts';
import { lvCommand, lvsCommand } from './commands/lv.ts';
import { changeCommand } from './commands/change.ts';
import { consoleCommand } from './commands/console.ts';
import { createCommand } from './commands/create.ts';
import { infoCommand } from './commands/info.ts';
import { listResourcesCommand } from './commands/list-resources.ts';
import { listCommand } from './commands/list.ts';
import { planCommand } from './commands/plan.ts';
import { killCommand, restartCommand, startCommand, statusCommand, stopCommand } from './commands/power.ts';
import { removeCommand } from './commands/remove.ts';
import { setupCommand } from './commands/setup.ts';
import { teardownCommand } from './commands/teardown.ts';
import type { GlobalArgs } from './options.ts';

const BOOLEAN_FLAGS = /^--(?:no-)?(user|public|private|quiet|verbose|json|dry-run|live|help)=(.*)$/;

/** yargs reads '--public=no' as false; only true and false are taken. */
function checkBooleans(argv: string[]): void {
  for (const arg of argv) {
    const m = BOOLEAN_FLAGS.exec(arg);
    if (m && m[2] !== 'true' && m[2] !== 'false') throw new KibError('usage', `--${m[1]} takes no value (or =true, =false), not '${m[2]}'`);
  }
}

export function buildCli(argv: string[]) {
  checkBooleans(argv);
  // yargs prints help through process.stdout: a reader that goes away early is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  return yargs(argv)
    .scriptName('kib')
    .usage('Usage: kib [options] COMMAND\n\nkvm-in-a-box: declare VMs, and kib reconciles the host to them.')
    .option('root', { type: 'string', default: '/', describe: "Use this directory instead of '/'", global: true })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print nothing but errors', global: true })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'Also list unchanged resources', global: true })
    .option('json', { type: 'boolean', describe: 'Machine-readable output', global: true })
    .option('dry-run', { alias: 'n', type: 'boolean', describe: 'Show the diff of every change; write nothing', global: true })
    .option('live', {
      type: 'boolean',
      describe: 'Make the running host follow the files: bridges, taps, firewall, dnsmasq, services (default: only when --root is /; --no-live: never)',
      global: true,
    })
    .command<GlobalArgs>(setupCommand)
    .command(createCommand as never)
    .command(changeCommand as never)
    .command(removeCommand as never)
    .command(teardownCommand)
    .command(listCommand)
    .command(infoCommand as never)
    .command(listResourcesCommand)
    .command(planCommand)
    .command(applyCommand)
    .command(lvCommand)
    .command(lvsCommand)
    .command(diskCommand)
    .command(imagesCommand)
    .command(startCommand as never)
    .command(stopCommand as never)
    .command(restartCommand as never)
    .command(killCommand as never)
    .command(statusCommand as never)
    .command(consoleCommand as never)
    .completion('completion', 'Print the bash completion script')
    .demandCommand(1, 'no command given; see kib --help')
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      throw error ?? new KibError('usage', message);
    });
}
