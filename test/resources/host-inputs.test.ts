// Commands on one VM skip host-wide resources when they change none of the fields
// hostInputsOf lists. This proves no other field reaches a host-wide file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../../src/model/config.ts';
import { emptyState } from '../../src/model/state.ts';
import { DEFAULT_SETTINGS, type Vm } from '../../src/model/vm.ts';
import { allResources, hostInputsOf } from '../../src/resources/index.ts';
import type { Desired } from '../../src/resources/desired.ts';
import { CONFIG, FIXTURES, KEY1, KEY2 } from '../helpers.ts';

const config = parseConfig(`${CONFIG}default-volume-group = vg0\n`);

function vm(overrides: Partial<Vm> = {}): Vm {
  return {
    ...structuredClone(DEFAULT_SETTINGS),
    uid: 30000,
    mac: '52:54:00:12:34:56',
    ipv4: '10.0.0.2',
    displayPort: 5900,
    storage: 'lvm',
    vg: 'vg0',
    disks: [{ name: 'data', sizeMiB: 1024 }],
    sshKeys: [KEY1],
    net: { user: true, public: true, private: true, groups: [3] },
    forward4: [{ proto: 'tcp', internal: 80, external: 8080 }],
    open6: [{ proto: 'tcp', port: 22 }],
    ...overrides,
  };
}

/** The content of every host-wide resource, merged into the busy host's files. */
function hostFiles(web: Vm): Map<string, string | null> {
  const state = emptyState();
  state.vms.web = web;
  state.vms.other = vm({ uid: 30001, mac: '52:54:00:aa:bb:cc', ipv4: '10.0.0.3', displayPort: 5901 });
  const d: Desired = { config, state, facts: { shadowGid: 42 } };
  const out = new Map<string, string | null>();
  for (const r of allResources(d)) {
    if (r.scope !== 'host') continue;
    if (r.kind === 'dir') {
      out.set(r.path, JSON.stringify(r));
      continue;
    }
    let current: string | null = null;
    try {
      current = readFileSync(path.join(FIXTURES, 'busy/in', r.path), 'utf8');
    } catch {
      // a file the busy host does not have
    }
    out.set(r.path, r.desired(current));
  }
  return out;
}

const VM_LOCAL: Partial<Vm>[] = [
  { cpus: 2 },
  { memMiB: 4096 },
  { driveDevice: 'scsi-hd' },
  { accel: 'tcg' },
  { sshKeys: [KEY2] },
  { boot: { kernel: '/boot/vmlinuz', initrd: '/boot/initrd', append: 'console=ttyS0' } },
  { diskMiB: 99999 },
  { imageFormat: 'raw' },
  { base: 'debian.qcow2' },
];

test('fields outside hostInputsOf leave every host-wide file unchanged', () => {
  const base = hostFiles(vm());
  for (const change of VM_LOCAL) {
    assert.is(hostInputsOf(vm(change)), hostInputsOf(vm()), `${Object.keys(change)[0]} is not a host input`);
    assert.equal(hostFiles(vm(change)), base, `changing ${Object.keys(change)[0]} changes no host-wide file`);
  }
});

test('every VM field is either a host input or known to be VM-local', () => {
  const local = new Set(VM_LOCAL.flatMap((c) => Object.keys(c)).concat('arch'));
  const inputs = new Set(Object.keys(JSON.parse(hostInputsOf(vm()))));
  for (const key of Object.keys(vm())) assert.ok(local.has(key) !== inputs.has(key), `${key} is classified exactly once`);
});

test('host inputs do reach host-wide files', () => {
  const base = hostFiles(vm());
  for (const change of [{ ipv4: '10.0.0.9' }, { displayPort: 5999 }, { forward4: [] }, { disks: [] }, { storage: 'image' }, { net: { user: false, public: false, private: true, groups: [] } }] as Partial<Vm>[]) {
    assert.not.equal(hostFiles(vm(change)), base, `${Object.keys(change)[0]} changes a host-wide file`);
  }
});

test.run();
