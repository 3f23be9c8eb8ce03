// Bad input: each case is a one-line error on stderr naming what was wrong, a non-zero
// exit status, and not one byte changed under the root.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, KEY1, kib, kibOk, mtimes, rootFromFixture, snapshot } from '../helpers.ts';

interface Case {
  args: string[];
  error: RegExp;
  /** Prepares the root (after setup and `create web --public`). */
  prepare?: (root: string) => void;
}

const CASES: Record<string, Case> = {
  'uppercase name': { args: ['create', 'Web'], error: /invalid VM name 'Web'/ },
  'name with a dash': { args: ['create', 'a-b'], error: /invalid VM name 'a-b'/ },
  'name too long for a tap': { args: ['create', 'abcdefghijkl'], error: /invalid VM name/ },
  'empty name': { args: ['create', ''], error: /invalid VM name ''/ },
  'name with a slash': { args: ['create', '../x'], error: /invalid VM name/ },
  'name with a newline': { args: ['create', 'a\nb'], error: /invalid VM name 'a\\nb'/ },
  'reserved name': { args: ['create', 'admin'], error: /reserved/ },
  'existing VM': { args: ['create', 'web'], error: /VM web already exists/ },
  'unknown VM': { args: ['change', 'nope', '--cpus', '1'], error: /no VM named 'nope'/ },
  'remove unknown VM': { args: ['remove', 'nope'], error: /no VM named 'nope'/ },
  'info unknown VM': { args: ['info', 'nope'], error: /no VM named 'nope'/ },
  'port 0': { args: ['create', 'x', '--public', '--forward4', 'tcp:0:80'], error: /invalid --forward4 'tcp:0:80'/ },
  'port 65536': { args: ['create', 'x', '--public', '--forward4', 'tcp:80:65536'], error: /invalid --forward4/ },
  'unknown protocol': { args: ['create', 'x', '--public', '--forward4', 'sctp:1:1'], error: /invalid --forward4 'sctp:1:1'/ },
  'forward without host port': { args: ['create', 'x', '--public', '--forward4', 'tcp:80'], error: /invalid --forward4/ },
  'open6 bad port': { args: ['create', 'x', '--public', '--open6', 'tcp:99999'], error: /invalid --open6/ },
  'forward without public': { args: ['create', 'x', '--forward4', 'tcp:80:8081'], error: /need the public network/ },
  'host port taken by another VM': { args: ['create', 'x', '--public', '--forward4', 'tcp:22:8080'], error: /host port tcp\/8080 is already forwarded to VM web/ },
  'zero memory': { args: ['create', 'x', '--mem', '0'], error: /invalid --mem '0'/ },
  'memory beyond the host': { args: ['create', 'x', '--mem', '64T'], error: /invalid --mem '64T'/ },
  'memory not a size': { args: ['create', 'x', '--mem', 'lots'], error: /invalid --mem 'lots'/ },
  'zero cpus': { args: ['create', 'x', '--cpus', '0'], error: /invalid --cpus '0'/ },
  'cpus beyond the host': { args: ['create', 'x', '--cpus', '4096'], error: /invalid --cpus '4096'/ },
  'cpus not a number': { args: ['change', 'web', '--cpus', 'two'], error: /invalid --cpus/ },
  'key with an embedded newline': { args: ['create', 'x', '--ssh-key', `${KEY1}\nssh-rsa AAAAB3NzaC1yc2E evil`], error: /invalid SSH key: it must be a single line/ },
  'key of unknown type': { args: ['create', 'x', '--ssh-key', 'ssh-foo AAAA x'], error: /unknown key type 'ssh-foo'/ },
  'key with options': { args: ['create', 'x', '--ssh-key', `command="sh" ${KEY1}`], error: /invalid SSH key/ },
  'key data not of its type': { args: ['create', 'x', '--ssh-key', 'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAINQdQvclJHzfvJH650Nngv6v2MZ+rNZ4rUeJx3i3MCrA x'], error: /does not hold a ssh-rsa key/ },
  'bad drive device': { args: ['create', 'x', '--drive-device', 'floppy'], error: /invalid --drive-device 'floppy'/ },
  'bad accelerator': { args: ['create', 'x', '--accel', 'xen'], error: /invalid --accel 'xen'/ },
  'group 0': { args: ['create', 'x', '--net-group', '0'], error: /invalid --net-group '0'/ },
  'too many groups': { args: ['create', 'x', ...Array.from({ length: 11 }, (_, i) => ['--net-group', String(i + 1)]).flat()], error: /at most 10 groups/ },
  'bad disk name': { args: ['create', 'x', '--add-disk', 'My-Disk'], error: /invalid disk name 'My-Disk'/ },
  'relative kernel path': { args: ['create', 'x', '--kernel', 'vmlinuz'], error: /invalid --kernel: 'vmlinuz' is not an absolute path/ },
  'flag given twice': { args: ['create', 'x', '--append', 'a', '--append', 'b'], error: /--append is given more than once/ },
  'root given twice': { args: ['--root', '/nonexistent', 'list', '--json', '--dry-run'], error: /--root is given more than once/ },
  'list flag without a value': { args: ['change', 'web', '--ssh-key'], error: /--ssh-key needs a value \(--no-ssh-key clears the list\)/ },
  'boolean with a value': { args: ['change', 'web', '--public=no'], error: /--public takes no value/ },
  'cpus not a number shows the input': { args: ['create', 'x', '--cpus', 'abc'], error: /invalid --cpus 'abc'/ },
  'cpus without a value': { args: ['change', 'web', '--cpus'], error: /invalid --cpus ''/ },
  'host port forwarded twice': { args: ['create', 'x', '--public', '--forward4', 'tcp:81:9090', '--forward4', 'tcp:82:9090'], error: /host port tcp\/9090 is forwarded twice/ },
  "the host's SSH port": { args: ['create', 'x', '--public', '--forward4', 'tcp:22:22'], error: /host port tcp\/22 is the host's SSH/ },
  'volume group . ': { args: ['create', 'x', '--vg', '.'], error: /invalid --vg '\.'/ },
  'name LVM reserves': { args: ['create', 'snapshot1'], error: /invalid VM name 'snapshot1': the name is reserved/ },
  'overlapping IPv6 networks': {
    args: ['apply'],
    prepare: (root) => writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), 'domain = a.example\nupstream-interface = eth0\npublic-address = 10.0.0.1/16\npublic-address6 = fd00::1/64\nprivate-address6 = fd00::2/64\n'),
    error: /kvm-in-a-box\.cfg:5: 'private-address6' overlaps 'public-address6'/,
  },
  'public-address moved away from the VMs': {
    args: ['apply'],
    prepare: (root) => writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), 'domain = a.example\nupstream-interface = eth0\npublic-address = 10.9.0.1/16\n'),
    error: /VM web has IPv4 10\.0\.0\.2, outside public-address 10\.9\.0\.1\/16/,
  },
  'a state naming a VM outside the rules': {
    args: ['apply'],
    prepare: (root) => {
      const file = path.join(root, 'var/lib/kib/state.json');
      const state = JSON.parse(require_('fs').readFileSync(file, 'utf8'));
      delete state.digest;
      state.removing['../../../../tmp/victim'] = { uid: 4242 };
      writeFileSync(file, JSON.stringify(state));
    },
    error: /state\.json is invalid at removing\["\.\.\/\.\.\/\.\.\/\.\.\/tmp\/victim"\]: invalid VM name/,
  },
  'a state holding a bad SSH key': {
    args: ['apply'],
    prepare: (root) => {
      const file = path.join(root, 'var/lib/kib/state.json');
      const state = JSON.parse(require_('fs').readFileSync(file, 'utf8'));
      delete state.digest;
      state.vms.web.sshKeys = ['ssh-ed25519 AAAA\ncommand="sh"'];
      writeFileSync(file, JSON.stringify(state));
    },
    error: /invalid at vms\.web\.sshKeys\.0: invalid SSH key/,
  },
  'a shared file that cannot be read': {
    args: ['create', 'x'],
    prepare: (root) => {
      require_('fs').rmSync(path.join(root, 'etc/passwd'));
      require_('fs').mkdirSync(path.join(root, 'etc/passwd'));
    },
    error: /EISDIR/,
  },
  'unknown flag': { args: ['create', 'x', '--bogus'], error: /Unknown argument: bogus/ },
  'unknown command': { args: ['explode'], error: /Unknown argument: explode/ },
  'foreign kib- user': {
    args: ['create', 'legacy'],
    error: /a user or group named kib-legacy already exists and kib did not create it/,
  },
  'foreign kib- entry in shadow only': {
    args: ['create', 'zz'],
    prepare: (root) => writeFileSync(path.join(root, 'etc/shadow'), `${require_('fs').readFileSync(path.join(root, 'etc/shadow'), 'latin1')}kib-zz:$6$secret:20000::::::\n`),
    error: /a user or group named kib-zz already exists and kib did not create it/,
  },
  "a VM's uid taken by a foreign user": {
    args: ['apply'],
    prepare: (root) => {
      // The state (edited by hand) gives web the uid of a foreign user of the busy host.
      const file = path.join(root, 'var/lib/kib/state.json');
      const state = JSON.parse(require_('fs').readFileSync(file, 'utf8'));
      delete state.digest;
      state.vms.web.uid = 1001;
      writeFileSync(file, JSON.stringify(state));
    },
    error: /id 1001 of VM web is taken by the foreign entry/,
  },
  'broken config: unknown key': {
    args: ['create', 'x'],
    prepare: (root) => writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), 'domain = a.example\nupstream-interface = eth0\npublic-adress = 10.0.0.1/16\n'),
    error: /kvm-in-a-box\.cfg:3: unknown key 'public-adress'/,
  },
  'broken config: bad address': {
    args: ['create', 'x'],
    prepare: (root) => writeFileSync(path.join(root, 'etc/kvm-in-a-box.cfg'), 'domain = a.example\nupstream-interface = eth0\npublic-address = 10.0.0.0/16\n'),
    error: /kvm-in-a-box\.cfg:3: 'public-address'/,
  },
  'corrupt state file': {
    args: ['create', 'x'],
    prepare: (root) => writeFileSync(path.join(root, 'var/lib/kib/state.json'), '{"version": 1, "vms": {'),
    error: /state\.json is corrupt/,
  },
  'state of an unknown version': {
    args: ['list'],
    prepare: (root) => writeFileSync(path.join(root, 'var/lib/kib/state.json'), '{"version": 99, "vms": {}}'),
    error: /unknown version 99/,
  },
  'state with a bad MAC': {
    args: ['apply'],
    prepare: (root) => {
      const file = path.join(root, 'var/lib/kib/state.json');
      const state = JSON.parse(require_('fs').readFileSync(file, 'utf8'));
      state.vms.web.mac = 'zz';
      writeFileSync(file, JSON.stringify(state));
    },
    error: /invalid at vms\.web\.mac/,
  },
};

import { createRequire } from 'node:module';
const require_ = createRequire(import.meta.url);

const base = rootFromFixture('busy');
kibOk(base, 'setup');
kibOk(base, 'create', 'web', '--public', '--forward4', 'tcp:80:8080');

for (const [name, c] of Object.entries(CASES)) {
  test(`bad input: ${name}`, () => {
    const root = rootFromFixture('busy');
    try {
      require_('fs').cpSync(base, root, { recursive: true });
      c.prepare?.(root);
      const before = snapshot(root);
      const times = mtimes(root);
      const r = kib(root, ...c.args);
      assert.is.not(r.status, 0, 'exit status');
      const lines = r.stderr.trimEnd().split('\n');
      assert.is(lines.length, 1, `one line on stderr: ${r.stderr}`);
      assert.match(lines[0], /^kib: /);
      assert.match(lines[0], c.error);
      assert.is(r.stdout, '', 'nothing on stdout');
      assert.equal(snapshot(root), before, 'no file changed');
      assert.equal(mtimes(root), times, 'no file rewritten');
    } finally {
      cleanup(root);
    }
  });
}

test.after(() => cleanup(base));
test.run();
