import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KibError } from '../../src/errors.ts';
import { migrateLegacyState, readLegacyState } from '../../src/model/legacy.ts';
import { cleanup, KEY1, rootFromTree } from '../helpers.ts';

const LEGACY_JSON =
  '{"net":{"vm":["02:00:00:00:00:01","10.0.0.2"]},"vms":{"vm":{"sys_cfg":{"add_disks":["data"],"vg":"vg0","authorized_keys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQdQvclJHzfvJH650Nngv6v2MZ+rNZ4rUeJx3i3MCrA demo@foobar"]},"q_cfg":{"mem":512,"cpus":2},"name":"vm","cfg":{"arch":"x86_64"},"net_cfg":{"group_ifs":[],"private_if":false,"forwarded_ports4":[["tcp",[443,8443]]],"user_if":false,"open_ports6":[["tcp",22]],"public_if":true}}}}';
const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nkib-vm:x:1234:1234::/home/kib-vm:/bin/false\n';

async function legacyError(content: string): Promise<KibError> {
  const root = rootFromTree({ 'var/lib/kib/state': content });
  try {
    await readLegacyState(root);
  } catch (error) {
    assert.instance(error, KibError);
    return error as KibError;
  } finally {
    cleanup(root);
  }
  assert.unreachable('read without error');
  throw new Error('unreachable');
}

test('migrateLegacyState keeps every setting, the MAC, the IPv4 and the existing uid', () => {
  const state = migrateLegacyState(JSON.parse(LEGACY_JSON), PASSWD);
  assert.equal(Object.keys(state.vms), ['vm']);
  const vm = state.vms.vm;
  assert.is(vm.mac, '02:00:00:00:00:01');
  assert.is(vm.ipv4, '10.0.0.2');
  assert.is(vm.uid, 1234);
  assert.is(vm.vg, 'vg0');
  assert.equal(vm.disks.map((d) => d.name), ['data']);
  assert.is(vm.storage, 'lvm');
  assert.equal(vm.sshKeys, [KEY1]);
  assert.is(vm.cpus, 2);
  assert.is(vm.memMiB, 512);
  assert.equal(vm.forward4, [{ proto: 'tcp', internal: 443, external: 8443 }]);
  assert.equal(vm.open6, [{ proto: 'tcp', port: 22 }]);
  assert.equal(vm.net, { user: false, public: true, private: false, groups: [] });
  assert.is(vm.arch, 'x86_64');
  assert.is(vm.driveDevice, 'virtio-blk-pci');
  assert.equal(state.removing, {});
});

test('migrateLegacyState: no kib-NAME user leaves uid 0 (to allocate), a MAC is lowercased', () => {
  const legacy = JSON.parse(LEGACY_JSON);
  legacy.net.vm[0] = '02:AB:00:00:00:01';
  const state = migrateLegacyState(legacy, 'root:x:0:0:root:/root:/bin/bash\nvm:x:999:999::/:/bin/false\n');
  assert.is(state.vms.vm.uid, 0);
  assert.is(state.vms.vm.mac, '02:ab:00:00:00:01');
});

test('migrateLegacyState refuses a VM without net entry or with a bad name', () => {
  const noNet = JSON.parse(LEGACY_JSON);
  delete noNet.net.vm;
  assert.throws(() => migrateLegacyState(noNet, PASSWD), (e: unknown) => e instanceof KibError && e.code === 'state' && /VM 'vm'.*MAC/.test(e.message));
  const badName = { net: { 'Bad-Name': ['02:00:00:00:00:01', '10.0.0.2'] }, vms: { 'Bad-Name': {} } };
  assert.throws(() => migrateLegacyState(badName, PASSWD), (e: unknown) => e instanceof KibError && e.code === 'state' && /Bad-Name/.test(e.message));
});

test('readLegacyState reads the header line and the JSON', async () => {
  const root = rootFromTree({ 'var/lib/kib/state': `kvm-in-a-box state format: v4.1\n${LEGACY_JSON}\n` });
  try {
    assert.equal(await readLegacyState(root), JSON.parse(LEGACY_JSON));
  } finally {
    cleanup(root);
  }
  const none = rootFromTree({ 'etc/passwd': PASSWD });
  try {
    assert.is(await readLegacyState(none), undefined, 'no legacy file');
  } finally {
    cleanup(none);
  }
});

test('readLegacyState refuses a wrong header line with code state', async () => {
  for (const header of ['kvm-in-a-box state format: v3.0', 'kib state v4.1', '{"vms":{}}']) {
    const error = await legacyError(`${header}\n${LEGACY_JSON}\n`);
    assert.is(error.code, 'state');
    assert.match(error.message, /unknown format/);
    assert.match(error.message, /\/var\/lib\/kib\/state/);
  }
});

test('readLegacyState refuses corrupt JSON after a good header', async () => {
  const error = await legacyError('kvm-in-a-box state format: v4.1\n{"vms":\n');
  assert.is(error.code, 'state');
  assert.match(error.message, /corrupt/);
});

test.run();
