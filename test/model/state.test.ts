import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KibError } from '../../src/errors.ts';
import { emptyState, getVm, renderState, vmNames, type State } from '../../src/model/state.ts';
import { parseState } from '../../src/model/schema.ts';
import { DEFAULT_SETTINGS, type Vm } from '../../src/model/vm.ts';
import { KEY1 } from '../helpers.ts';

/** A VM with its keys in the schema's order (allocations first). */
const vm = (n: number, extra: Partial<Vm> = {}): Vm => ({
  uid: 30000 + n,
  mac: `52:54:00:00:00:0${n}`,
  ipv4: `10.0.0.${n + 1}`,
  displayPort: 5900 + n,
  ...structuredClone(DEFAULT_SETTINGS),
  ...extra,
});

/** A state with VMs inserted out of name order. */
function sampleState(): State {
  const state = emptyState();
  state.vms.zeta = vm(1, { sshKeys: [KEY1], forward4: [{ proto: 'tcp', internal: 80, external: 8080 }], net: { user: false, public: true, private: false, groups: [5] } });
  state.vms.alpha = vm(2, { accel: 'tcg', storage: 'lvm', disks: [{ name: 'data', sizeMiB: 2048 }], vg: 'vg0' });
  state.vms.mid = vm(3, { open6: [{ proto: 'udp', port: 53 }], boot: { kernel: '/boot/vmlinuz', initrd: null, append: 'console=ttyS0' } });
  state.removing.old = { uid: 30009 };
  state.cursors = { uid: 30003, ipv4: '10.0.0.4', displayPort: 5903 };
  return state;
}

function stateError(content: string, file?: string): string {
  try {
    parseState(content, file);
  } catch (error) {
    assert.instance(error, KibError);
    assert.is((error as KibError).code, 'state');
    return (error as KibError).message;
  }
  assert.unreachable('parsed without error');
  return '';
}

const withVms = (vms: Record<string, unknown>) => JSON.stringify({ ...emptyState(), vms });

test('renderState output parses back equal', () => {
  const state = sampleState();
  const text = renderState(state);
  assert.equal(parseState(text), state);
  assert.is(renderState(parseState(text)), text, 'rendering is deterministic');
  assert.ok(text.endsWith('}\n'));
  assert.equal(parseState(renderState(emptyState())), emptyState());
});

test('renderState lists VMs sorted by name', () => {
  const text = renderState(sampleState());
  assert.equal(Object.keys(JSON.parse(text).vms), ['alpha', 'mid', 'zeta']);
  assert.ok(text.indexOf('"alpha"') < text.indexOf('"mid"') && text.indexOf('"mid"') < text.indexOf('"zeta"'));
  assert.equal(vmNames(sampleState()), ['alpha', 'mid', 'zeta']);
});

test('parseState rejects non-JSON as corrupt, naming the file', () => {
  for (const bad of ['', '{', 'version = 1', '{"version": 1,}']) {
    const message = stateError(bad, '/var/lib/kib/state.json');
    assert.match(message, /\/var\/lib\/kib\/state\.json is corrupt/);
  }
});

test('parseState rejects an unknown version, naming it', () => {
  assert.match(stateError(JSON.stringify({ ...emptyState(), version: 2 })), /unknown version 2/);
  assert.match(stateError(JSON.stringify({ ...emptyState(), version: '1' })), /unknown version "1"/);
  assert.match(stateError('{}'), /unknown version undefined/);
  assert.match(stateError('null'), /unknown version/);
  assert.match(stateError('[]'), /unknown version/);
});

test('parseState rejects a VM with a bad MAC, naming the path', () => {
  for (const mac of ['52:54:00:00:00', '52-54-00-00-00-01', '52:54:00:00:00:0G', '52:54:00:AA:00:01', '']) {
    const message = stateError(withVms({ web: vm(1, { mac }) }));
    assert.match(message, /invalid at vms\.web\.mac/, mac);
  }
});

test('parseState rejects unknown fields and bad values', () => {
  assert.match(stateError(withVms({ web: { ...vm(1), color: 'blue' } })), /vms\.web/);
  assert.match(stateError(withVms({ web: vm(1, { uid: 0 }) })), /vms\.web\.uid/);
  assert.match(stateError(withVms({ web: vm(1, { displayPort: 70000 }) })), /vms\.web\.displayPort/);
  assert.match(stateError(JSON.stringify({ ...emptyState(), extra: 1 })), /invalid at top level/);
});

test('parseState rejects two VMs sharing an allocation', () => {
  assert.match(stateError(withVms({ a: vm(1), b: vm(2, { ipv4: '10.0.0.2' }) })), /VMs a and b share ipv4 10\.0\.0\.2/);
  assert.match(stateError(withVms({ a: vm(1), b: vm(2, { uid: 30001 }) })), /share uid 30001/);
  assert.match(stateError(withVms({ a: vm(1), b: vm(2, { mac: vm(1).mac }) })), /share mac/);
  assert.match(stateError(withVms({ a: vm(1), b: vm(2, { displayPort: 5901 }) })), /share displayPort 5901/);
});

test('getVm returns the VM or throws not-found', () => {
  const state = sampleState();
  assert.is(getVm(state, 'mid').uid, 30003);
  assert.throws(() => getVm(state, 'nope'), (e: unknown) => e instanceof KibError && e.code === 'not-found' && /nope/.test(e.message));
});

test.run();
