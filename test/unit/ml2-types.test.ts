// The type drivers without a database: provider segment validation in Neutron's words, partial
// segments, and the MTU each type allows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NeutronError } from '../../src/common/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { Store } from '../../src/db/store.js';
import { type Ml2Config, ml2Config } from '../../src/plugins/ml2/config.js';
import type { SegmentSpec } from '../../src/plugins/ml2/segment.js';
import { TypeManager } from '../../src/plugins/ml2/type-manager.js';

// Validation and MTUs never touch the database.
const store = new Store(null as never);

function manager(options: Array<[string, string, unknown]> = []): TypeManager {
  return new TypeManager(ml2Config(loadConfig([], options)), store);
}

const seg = (
  network_type: string,
  physical_network: string | null = null,
  segmentation_id: number | null = null,
): SegmentSpec => ({
  network_type,
  physical_network,
  segmentation_id,
});

function rejects(m: TypeManager, s: SegmentSpec, reason: string): void {
  assert.throws(
    () => m.validateProviderSegment(s),
    (err: unknown) => {
      assert.ok(err instanceof NeutronError);
      assert.equal(err.type, 'InvalidInput');
      assert.equal(err.status, 400);
      assert.equal(err.message, `Invalid input for operation: ${reason}.`);
      return true;
    },
  );
}

describe('validation', () => {
  const m = manager([
    ['ml2_type_vlan', 'network_vlan_ranges', 'physnet1:100:200,physnet2'],
    ['ml2_type_flat', 'flat_networks', 'physnet1'],
  ]);

  test('vlan', () => {
    m.validateProviderSegment(seg('vlan', 'physnet1', 4094));
    m.validateProviderSegment(seg('vlan', 'physnet2'));
    m.validateProviderSegment(seg('vlan'));
    rejects(m, seg('vlan', 'physnet3', 5), "physical_network 'physnet3' unknown for VLAN provider network");
    rejects(m, seg('vlan', 'physnet1', 0), 'segmentation_id out of range (1 through 4094)');
    rejects(m, seg('vlan', 'physnet1', 4095), 'segmentation_id out of range (1 through 4094)');
    rejects(m, seg('vlan', null, 5), 'segmentation_id requires physical_network for VLAN provider network');
  });

  test('flat', () => {
    m.validateProviderSegment(seg('flat', 'physnet1'));
    rejects(m, seg('flat'), 'physical_network required for flat provider network');
    rejects(m, seg('flat', 'physnet2'), "physical_network 'physnet2' unknown for flat provider network");
    rejects(m, seg('flat', 'physnet1', 7), 'segmentation_id prohibited for flat provider network');
    const off = manager([['ml2_type_flat', 'flat_networks', '']]);
    rejects(off, seg('flat', 'physnet1'), 'Flat provider networks are disabled');
    manager().validateProviderSegment(seg('flat', 'anything'));
  });

  test('tunnels', () => {
    for (const [type, max] of [
      ['vxlan', 2 ** 24 - 1],
      ['geneve', 2 ** 24 - 1],
      ['gre', 2 ** 32 - 1],
    ] as const) {
      m.validateProviderSegment(seg(type));
      m.validateProviderSegment(seg(type, null, max));
      rejects(m, seg(type, 'physnet1'), `provider:physical_network specified for ${type} network`);
      rejects(m, seg(type, null, max + 1), `segmentation_id out of range (1 through ${max})`);
      rejects(m, seg(type, null, 0), `segmentation_id out of range (1 through ${max})`);
    }
  });

  test('local and unknown types', () => {
    m.validateProviderSegment(seg('local'));
    rejects(m, seg('local', 'p'), 'physical_network prohibited for local provider network');
    rejects(m, seg('local', null, 3), 'segmentation_id prohibited for local provider network');
    rejects(m, seg('foo'), "network_type value 'foo' not supported");
    rejects(manager([['ml2', 'type_drivers', 'vxlan']]), seg('vlan', 'physnet1'), "network_type value 'vlan' not supported");
  });

  test('partial segments: a VLAN or tunnel without its id', () => {
    assert.equal(m.isPartialSegment(seg('vlan', 'physnet1')), true);
    assert.equal(m.isPartialSegment(seg('vlan', 'physnet1', 5)), false);
    assert.equal(m.isPartialSegment(seg('vxlan')), true);
    assert.equal(m.isPartialSegment(seg('flat', 'physnet1')), false);
    assert.equal(m.isPartialSegment(seg('local')), false);
  });
});

describe('provider requests', () => {
  const m = manager();
  const NT = 'provider:network_type';

  test('provider:* and segments are exclusive; duplicates of full segments are refused', () => {
    assert.deepEqual(m.providerSegments({ [NT]: 'vxlan' }), [seg('vxlan')]);
    assert.deepEqual(m.providerSegments({}), []);
    assert.deepEqual(m.providerSegments({ segments: [] }), []);
    assert.throws(() => m.providerSegments({ [NT]: 'vxlan', segments: [] }), { type: 'SegmentsSetInConjunctionWithProviders' });
    const full = { [NT]: 'vxlan', 'provider:segmentation_id': 5 };
    assert.throws(() => m.providerSegments({ segments: [full, full] }), { type: 'SegmentsContainDuplicateEntry' });
    assert.equal(m.providerSegments({ segments: [{ [NT]: 'vxlan' }, { [NT]: 'vxlan' }] }).length, 2);
    assert.throws(() => m.providerSegments({ 'provider:physical_network': 'p' }), { message: /network_type required/ });
  });
});

describe('MTU', () => {
  const cfg = (options: Array<[string, string, unknown]>): Ml2Config => ml2Config(loadConfig([], options));
  const mtu = (options: Array<[string, string, unknown]>, ...segments: SegmentSpec[]) =>
    new TypeManager(cfg(options), store).maxMtu(segments);

  test('defaults: 1500 less vxlan 50, gre 42, geneve 50; physical types 1500', () => {
    assert.equal(mtu([], seg('vxlan')), 1450);
    assert.equal(mtu([], seg('gre')), 1458);
    assert.equal(mtu([], seg('geneve')), 1450);
    assert.equal(mtu([], seg('vlan', 'physnet1')), 1500);
    assert.equal(mtu([], seg('flat', 'x')), 1500);
    assert.equal(mtu([], seg('local')), 1500);
    assert.equal(mtu([]), 1500);
  });

  test('path_mtu and global_physnet_mtu: the smaller counts for tunnels; only the global for physical types', () => {
    const o: Array<[string, string, unknown]> = [
      ['DEFAULT', 'global_physnet_mtu', 9000],
      ['ml2', 'path_mtu', 8000],
    ];
    assert.equal(mtu(o, seg('vxlan')), 7950);
    assert.equal(mtu(o, seg('vlan', 'physnet1')), 9000);
    assert.equal(mtu([['ml2', 'path_mtu', 9000]], seg('vxlan')), 1450);
  });

  test('physical_network_mtus lowers a physical network; the smallest segment wins', () => {
    const o: Array<[string, string, unknown]> = [['ml2', 'physical_network_mtus', 'physnet1:1400,physnet2:9000']];
    assert.equal(mtu(o, seg('vlan', 'physnet1')), 1400);
    assert.equal(mtu(o, seg('flat', 'physnet2')), 1500);
    assert.equal(mtu(o, seg('vlan', 'physnet1'), seg('vxlan')), 1400);
    assert.equal(mtu(o, seg('local'), seg('gre')), 1458);
  });

  test('geneve max_header_size and an IPv6 overlay', () => {
    assert.equal(mtu([['ml2_type_geneve', 'max_header_size', 38]], seg('geneve')), 1442);
    assert.equal(mtu([['ml2', 'overlay_ip_version', 6]], seg('vxlan')), 1430);
    assert.equal(mtu([['ml2', 'overlay_ip_version', 6]], seg('gre')), 1438);
  });
});
