import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KibError } from '../../src/errors.ts';
import {
  allocate,
  allocateDisplayPort,
  allocateIpv4,
  allocateMac,
  allocateUid,
  nextFree,
  type TakenIds,
} from '../../src/model/allocate.ts';
import { parseConfig, type HostConfig } from '../../src/model/config.ts';
import { macFromSeed } from '../../src/model/net.ts';
import { emptyState, type State } from '../../src/model/state.ts';
import { DEFAULT_SETTINGS, type Vm } from '../../src/model/vm.ts';

const config = (extra: string): HostConfig =>
  parseConfig(`domain = kvm-box.example.net\nupstream-interface = eth0\n${extra}\n`);
const noIds = (): TakenIds => ({ uids: new Set(), gids: new Set() });

function throwsExhausted(fn: () => unknown, what: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, KibError);
    assert.is((error as KibError).code, 'exhausted');
    assert.match((error as KibError).message, what);
    return;
  }
  assert.unreachable('should have thrown');
}

/** Allocates n addresses in turn, each one in use by the next allocation. */
function allocateN(state: State, c: HostConfig, used: Set<string>, n: number): string[] {
  return Array.from({ length: n }, () => {
    const ip = allocateIpv4(state, c, used);
    used.add(ip);
    return ip;
  });
}

// --- nextFree ----------------------------------------------------------------------------

test('nextFree starts after the cursor, or at the first value without one', () => {
  const none = () => false;
  assert.is(nextFree(10, 14, null, none), 10);
  assert.is(nextFree(10, 14, 10, none), 11);
  assert.is(nextFree(10, 14, 12, none), 13);
  assert.is(nextFree(10, 14, 9, none), 10, 'a cursor before the range starts at the first');
  assert.is(nextFree(10, 14, 99, none), 10, 'a cursor past the range starts at the first');
});

test('nextFree skips taken values and wraps around once', () => {
  const taken = (set: number[]) => (n: number) => set.includes(n);
  assert.is(nextFree(10, 14, 11, taken([12, 13])), 14);
  assert.is(nextFree(10, 14, 14, taken([])), 10, 'after the last value: wrap to the first');
  assert.is(nextFree(10, 14, 12, taken([13, 14])), 10, 'wraps past the end');
  assert.is(nextFree(10, 14, 12, taken([10, 11, 13, 14])), 12, 'the cursor itself comes last');
  assert.is(nextFree(10, 14, 12, taken([10, 11, 12, 13, 14])), undefined, 'all taken');
  // Each value is looked at once: no endless loop and no value beyond the range.
  const asked: number[] = [];
  nextFree(10, 14, 11, (n) => (asked.push(n), true));
  assert.equal(asked, [12, 13, 14, 10, 11]);
  assert.is(nextFree(7, 7, null, taken([])), 7, 'a range of one');
});

// --- IPv4 --------------------------------------------------------------------------------

test('allocateIpv4 never hands out the network, broadcast or host address', () => {
  const c = config('public-address = 192.168.7.12/29'); // network .8, host .12, broadcast .15
  const state = emptyState();
  const ips = allocateN(state, c, new Set(), 5);
  assert.equal(ips, ['192.168.7.9', '192.168.7.10', '192.168.7.11', '192.168.7.13', '192.168.7.14']);
  assert.is(state.cursors.ipv4, '192.168.7.14');
});

test('allocateIpv4 starts right after the host in the usual layout', () => {
  const state = emptyState();
  assert.is(allocateIpv4(state, config('public-address = 10.0.0.1/16'), new Set()), '10.0.0.2');
  assert.is(state.cursors.ipv4, '10.0.0.2');
});

test('allocateIpv4 does not reuse a freed address while fresh ones remain', () => {
  const c = config('public-address = 10.0.0.1/24');
  const state = emptyState();
  const used = new Set<string>();
  const [first, second, third] = allocateN(state, c, used, 3);
  assert.equal([first, second, third], ['10.0.0.2', '10.0.0.3', '10.0.0.4']);
  used.delete(first); // the first VM is removed
  assert.is(allocateIpv4(state, c, used), '10.0.0.5');
});

test('allocateIpv4 reuses freed addresses once the range is exhausted, then throws', () => {
  const c = config('public-address = 10.0.0.1/29'); // assignable: .2 - .6
  const state = emptyState();
  const used = new Set<string>();
  assert.equal(allocateN(state, c, used, 5), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  used.delete('10.0.0.4');
  used.delete('10.0.0.3');
  // The cursor is at .6: wrapping around, the lowest freed address comes first.
  assert.is(allocateIpv4(state, c, used), '10.0.0.3');
  used.add('10.0.0.3');
  assert.is(allocateIpv4(state, c, used), '10.0.0.4');
  used.add('10.0.0.4');
  const before = structuredClone(state.cursors);
  throwsExhausted(() => allocateIpv4(state, c, used), /no free IPv4 address left in public-address 10\.0\.0\.1\/29/);
  assert.equal(state.cursors, before, 'a failed allocation does not move the cursor');
});

test('allocateIpv4 ignores a cursor outside the network', () => {
  const state = emptyState();
  state.cursors.ipv4 = '172.16.0.9';
  assert.is(allocateIpv4(state, config('public-address = 10.0.0.1/29'), new Set()), '10.0.0.2');
});

// --- uids --------------------------------------------------------------------------------

test('allocateUid skips uids in passwd, gids in group and kib\'s own uids', () => {
  const c = config('public-address = 10.0.0.1/16\nuid-range = 30000-30005');
  const state = emptyState();
  const taken: TakenIds = { uids: new Set([30000, 4, 1000]), gids: new Set([30001, 65534]) };
  const ours = new Set([30003]);
  const a = allocateUid(state, c, taken, ours);
  assert.is(a, 30002, 'uid 30000 is a user, 30001 a group');
  ours.add(a);
  assert.is(state.cursors.uid, 30002);
  const b = allocateUid(state, c, taken, ours);
  assert.is(b, 30004, '30003 is already a VM\'s');
  ours.add(b);
  ours.add(allocateUid(state, c, taken, ours)); // 30005
  throwsExhausted(() => allocateUid(state, c, taken, ours), /no free uid left in uid-range 30000-30005/);
});

test('allocateUid hands out the range\'s first uid on a fresh host', () => {
  assert.is(allocateUid(emptyState(), config('public-address = 10.0.0.1/16'), noIds(), new Set()), 30000);
});

// --- MACs, display ports and the whole allocation ----------------------------------------

test('allocateMac derives the MAC from the name and avoids used ones', () => {
  assert.is(allocateMac('web', new Set()), macFromSeed('web'));
  assert.is(allocateMac('web', new Set([macFromSeed('web')])), macFromSeed('web/1'));
  assert.is(allocateMac('web', new Set([macFromSeed('web'), macFromSeed('web/1')])), macFromSeed('web/2'));
});

test('allocateDisplayPort skips used ports and throws when none is left', () => {
  const c = config('public-address = 10.0.0.1/16\ndisplay-ports = 5900-5901');
  const state = emptyState();
  assert.is(allocateDisplayPort(state, c, new Set([5900])), 5901);
  throwsExhausted(() => allocateDisplayPort(state, c, new Set([5900, 5901])), /display-ports 5900-5901/);
});

const vm = (alloc: Pick<Vm, 'uid' | 'mac' | 'ipv4' | 'displayPort'>): Vm => ({ ...structuredClone(DEFAULT_SETTINGS), ...alloc });

test('allocate avoids every value in use, a VM being removed keeps its uid', () => {
  const c = config('public-address = 10.0.0.1/29\nuid-range = 30000-30009\ndisplay-ports = 5900-5909');
  const state = emptyState();
  state.vms.web = vm({ uid: 30000, mac: macFromSeed('db/30003'), ipv4: '10.0.0.2', displayPort: 5900 });
  state.removing.old = { uid: 30001 };
  const a = allocate(state, c, 'db', { uids: new Set([30002]), gids: new Set() });
  assert.equal(a, { uid: 30003, mac: macFromSeed('db/30003/1'), ipv4: '10.0.0.3', displayPort: 5901 });
  assert.equal(state.cursors, { uid: 30003, ipv4: '10.0.0.3', displayPort: 5901 });
});

test('a VM created again under an old name gets a fresh uid and MAC', () => {
  const c = config('public-address = 10.0.0.1/24');
  const state = emptyState();
  const first = allocate(state, c, 'web', noIds());
  const second = allocate(state, c, 'web', noIds());
  assert.is.not(second.uid, first.uid);
  assert.is.not(second.mac, first.mac);
});

test.run();
