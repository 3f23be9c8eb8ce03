// A host for kib-console's SSH tests: a test root where kib declared a VM (the tcg test
// guest) with a test client key, the matching user on this host (sshd looks users up in
// the real passwd and group files), and a real sshd on 127.0.0.1 whose config ends with
// the Match block kib rendered. The user's login shell is a root-owned wrapper that runs
// dist/kib-console.cjs with root's options: this root, a runtime directory of the test's,
// and the supervisor run directly (this host has no systemd user manager).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SSHD_MARKERS } from '../../src/resources/ssh.ts';
import { cleanup, installed, kibOk, read, REPO, rootFromFixture, sh, tempDir } from '../helpers.ts';
import { declareGuestVm, guest, SUPERVISE } from '../supervisor/guest.ts';

export const CONSOLE = path.join(REPO, 'dist', 'kib-console.cjs');

export interface ConsoleHost {
  name: string;
  user: string;
  uid: number;
  root: string;
  /** The VM user's runtime directory. */
  run: string;
  /** The VM user's home under the root. */
  home: string;
  isoDir: string;
  /** The test's own files: keys, sshd config, wrapper. */
  dir: string;
  port: number;
  displayPort: number;
  /** The login shell of the test's users. */
  wrapper: string;
  /** Runs ssh as the VM user (or another) with the test key; extra ssh options first. */
  ssh(args: string[], options?: { user?: string; input?: string; sshOptions?: string[] }): { status: number; stdout: string; stderr: string };
  /** The ssh command line for a terminal (tmux). */
  sshCommand(user?: string): string;
  /** Adds a user on this host whose shell is the wrapper, with the test key; it is removed by close(). */
  addHostUser(user: string): void;
  close(): void;
}

/** Whether this host has what the SSH tests need; false (outside CI) when it does not. */
export function canRun(): boolean {
  return guest() && ['sshd', 'ssh', 'ssh-keygen', 'tmux', 'useradd', 'setpriv'].every(installed);
}

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a command that must succeed. */
function must(cmd: string, args: string[]): string {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Sets up the host; the caller must close() it. */
export async function consoleHost(): Promise<ConsoleHost> {
  const name = `cts${process.pid}`.slice(0, 11);
  const user = `kib-${name}`;
  const undo: (() => void)[] = [];
  const close = () => {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // the rest still runs
      }
    }
  };
  try {
    const dir = tempDir('kib-console-');
    chmodSync(dir, 0o755);
    undo.push(() => cleanup(dir));
    const root = rootFromFixture('clean');
    undo.push(() => cleanup(root));
    const run = tempDir('kib-run-');
    undo.push(() => cleanup(run));
    const isoDir = path.join(dir, 'iso');
    mkdirSync(isoDir, { mode: 0o755 });

    must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kib-console-test', '-f', path.join(dir, 'client')]);
    must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
    const clientKey = readFileSync(path.join(dir, 'client.pub'), 'utf8').trim();

    // A uid range this host does not use, so that kib's uid is free for the host user.
    writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), `${read(root, 'etc/kvm-in-a-box.cfg')}uid-range = 47000-47999\niso-directory = ${isoDir}\n`);
    const { uid } = declareGuestVm(root, name, run);
    kibOk(root, 'change', name, '--ssh-key', clientKey);
    const info = JSON.parse(kibOk(root, 'info', name, '--json').stdout) as { argv: string[]; displayPort: number };
    if (sh('getent', ['passwd', String(uid)]).stdout !== '') throw new Error(`uid ${uid} is taken on this host`);
    const home = path.join(root, 'var/lib/kib/home', name);

    // The supervisor's argv as the unit runs it, kib-supervise being the built bundle.
    const argvFile = path.join(dir, 'supervise.json');
    writeFileSync(argvFile, JSON.stringify([process.execPath, SUPERVISE, ...info.argv.slice(1)]), { mode: 0o644 });
    const wrapper = path.join(dir, 'kib-console');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec ${process.execPath} ${CONSOLE} --root=${root} --runtime-dir=${run} --supervise=${argvFile} "$@"\n`,
      { mode: 0o755 },
    );

    // The host's user and groups, as kib renders them into the root's files.
    if (sh('getent', ['group', 'kib']).stdout === '') {
      must('groupadd', ['kib']);
      undo.push(() => must('groupdel', ['kib']));
    }
    must('groupadd', ['-g', String(uid), user]);
    undo.push(() => sh('groupdel', [user]));
    must('useradd', ['-u', String(uid), '-g', String(uid), '-G', 'kib', '-M', '-d', home, '-s', wrapper, '-c', `kib VM ${name}`, user]);
    undo.push(() => must('userdel', ['-f', user]));
    // What the user still runs (a session sshd has not reaped yet): gone before the user.
    undo.push(() => {
      for (const pid of sh('ps', ['-u', String(uid), '-o', 'pid=']).stdout.split('\n').map(Number).filter((p) => p > 0)) process.kill(pid, 'SIGKILL');
    });
    // kib's shadow entry: no password, not locked (sshd refuses locked accounts' keys too).
    must('usermod', ['-p', '*', user]);
    const extraUsers: string[] = [];
    undo.push(() => extraUsers.forEach((u) => sh('userdel', ['-f', u])));

    // sshd: the test's own settings, then kib's block with the keys under the root.
    const port = await freePort();
    const sshdConfig = readFileSync(path.join(root, 'etc/ssh/sshd_config'), 'utf8');
    const block = sshdConfig.slice(sshdConfig.indexOf(SSHD_MARKERS.begin), sshdConfig.indexOf(SSHD_MARKERS.end) + SSHD_MARKERS.end.length);
    const keysDir = path.join(root, 'etc/ssh/authorized_keys');
    const config = path.join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${path.join(dir, 'host')}`,
        'PidFile none',
        'UsePAM no',
        // The keys live under /tmp, which sshd's ownership checks would refuse.
        'StrictModes no',
        `AuthorizedKeysFile ${keysDir}/%u`,
        'Subsystem sftp internal-sftp',
        'AcceptEnv LANG LC_* NODE_OPTIONS',
        'LogLevel VERBOSE',
        block.replaceAll('/etc/ssh/authorized_keys', keysDir),
        '',
      ].join('\n'),
    );
    if (!existsSync('/run/sshd')) {
      mkdirSync('/run/sshd', { mode: 0o755 });
      undo.push(() => cleanup('/run/sshd'));
    }
    must('/usr/sbin/sshd', ['-t', '-f', config]);
    const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let sshdLog = '';
    sshd.stderr!.on('data', (d) => (sshdLog += d));
    undo.push(() => sshd.kill('SIGTERM'));
    const hostKey = readFileSync(path.join(dir, 'host.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
    for (let i = 0; i < 100 && !(await connects(port)); i++) await new Promise((r) => setTimeout(r, 50));
    if (!(await connects(port))) throw new Error(`sshd did not start: ${sshdLog}`);

    // Whatever the VM still runs when the test ends: its supervisor's group.
    undo.push(() => {
      const pid = Number(readFileSync(path.join(run, `${user}.supervise.pid`), 'utf8').trim());
      if (pid > 0) process.kill(-pid, 'SIGKILL');
    });

    const sshArgs = (u: string) => [
      '-F', 'none', '-i', path.join(dir, 'client'), '-p', String(port),
      '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', `${u}@127.0.0.1`,
    ];
    return {
      name,
      user,
      uid,
      root,
      run,
      home,
      isoDir,
      dir,
      port,
      displayPort: info.displayPort,
      wrapper,
      ssh: (args, options = {}) => {
        const r = spawnSync('ssh', [...(options.sshOptions ?? []), ...sshArgs(options.user ?? user), ...args], { encoding: 'utf8', input: options.input ?? '', timeout: 120_000 });
        return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
      },
      sshCommand: (u = user) => ['ssh', '-tt', ...sshArgs(u)].join(' '),
      addHostUser: (u) => {
        must('useradd', ['-M', '-d', dir, '-s', wrapper, u]);
        extraUsers.push(u);
        must('usermod', ['-p', '*', u]);
        writeFileSync(path.join(keysDir, u), `${clientKey}\n`);
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

/** Whether something accepts connections on the port. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
