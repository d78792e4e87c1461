// ML2's configuration: tunnel and VLAN ranges, physical network MTUs, type names, with a
// ConfigError naming the option for anything malformed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { ml2Config, parsePhysnetMtus, parseTunnelRanges, parseVlanRanges } from '../../src/plugins/ml2/config.js';

function throwsConfig(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${err}`);
    assert.match((err as Error).message, re);
    return true;
  });
}

const W = '[ml2_type_vxlan] vni_ranges';

describe('tunnel ranges', () => {
  test('min:max pairs, spaces allowed, single-id ranges', () => {
    assert.deepEqual(parseTunnelRanges(['1:100', ' 200 : 300 ', '7:7'], 'vxlan', W), [
      { min: 1, max: 100 },
      { min: 200, max: 300 },
      { min: 7, max: 7 },
    ]);
    assert.deepEqual(parseTunnelRanges([], 'vxlan', W), []);
    assert.deepEqual(parseTunnelRanges([`1:${2 ** 32 - 1}`], 'gre', W), [{ min: 1, max: 2 ** 32 - 1 }]);
  });

  test('malformed, reversed and out-of-space ranges are config errors naming the option', () => {
    throwsConfig(() => parseTunnelRanges(['100'], 'vxlan', W), /^\[ml2_type_vxlan\] vni_ranges: .*'100'/);
    throwsConfig(() => parseTunnelRanges(['1:2:3'], 'vxlan', W), /<min>:<max>/);
    throwsConfig(() => parseTunnelRanges(['a:b'], 'vxlan', W), /<min>:<max>/);
    throwsConfig(() => parseTunnelRanges(['10:5'], 'vxlan', W), /end of tunnel range is less than start/);
    throwsConfig(() => parseTunnelRanges(['0:5'], 'vxlan', W), /0 is not a valid vxlan identifier/);
    throwsConfig(() => parseTunnelRanges([`1:${2 ** 24}`], 'vxlan', W), /16777216 is not a valid vxlan identifier/);
    throwsConfig(() => parseTunnelRanges([`1:${2 ** 24}`], 'geneve', W), /geneve/);
    throwsConfig(() => parseTunnelRanges([`1:${2 ** 32}`], 'gre', W), /gre/);
  });
});

describe('VLAN ranges', () => {
  test('physnet:min:max and bare physnets (every tag), in the order first named', () => {
    const r = parseVlanRanges(['physnet2:10:20', 'physnet1', 'physnet2:30:40']);
    assert.deepEqual([...r.keys()], ['physnet2', 'physnet1']);
    assert.deepEqual(r.get('physnet2'), [
      { min: 10, max: 20 },
      { min: 30, max: 40 },
    ]);
    assert.deepEqual(r.get('physnet1'), [{ min: 1, max: 4094 }]);
    // A bare physnet already offers every tag.
    assert.deepEqual(parseVlanRanges(['p', 'p:5:6']).get('p'), [{ min: 1, max: 4094 }]);
  });

  test('bad entries are config errors', () => {
    throwsConfig(() => parseVlanRanges([':1:2']), /empty physical network name/);
    throwsConfig(() => parseVlanRanges(['p:1']), /need exactly two values/);
    throwsConfig(() => parseVlanRanges(['p:1:2:3']), /need exactly two values/);
    throwsConfig(() => parseVlanRanges(['p:x:2']), /x is not a valid VLAN tag/);
    throwsConfig(() => parseVlanRanges(['p:0:2']), /0 is not a valid VLAN tag/);
    throwsConfig(() => parseVlanRanges(['p:1:4095']), /4095 is not a valid VLAN tag/);
    throwsConfig(() => parseVlanRanges(['p:9:2']), /end of VLAN range is less than start/);
  });
});

describe('physical network MTUs', () => {
  test('physnet:mtu mappings', () => {
    assert.deepEqual(
      [...parsePhysnetMtus(['a:9000', ' b : 1400 '])],
      [
        ['a', 9000],
        ['b', 1400],
      ],
    );
  });

  test('bad mappings are config errors', () => {
    for (const bad of ['a', ':1500', 'a:', 'a:big', 'a:20']) throwsConfig(() => parsePhysnetMtus([bad]), /physical_network_mtus/);
    throwsConfig(() => parsePhysnetMtus(['a:1500', 'a:1400']), /mapped twice/);
  });
});

describe('ml2Config', () => {
  test('the embedded defaults', () => {
    const c = ml2Config(loadConfig([]));
    assert.deepEqual(c.typeDrivers, ['local', 'flat', 'vlan', 'gre', 'vxlan', 'geneve']);
    assert.deepEqual(c.tenantNetworkTypes, ['vxlan']);
    assert.deepEqual(c.tunnelRanges.vxlan, [{ min: 1, max: 1000 }]);
    assert.deepEqual(c.tunnelRanges.gre, []);
    assert.deepEqual([...c.vlanRanges], [['physnet1', [{ min: 100, max: 200 }]]]);
    assert.equal(c.flatNetworks, null);
    assert.equal(c.globalPhysnetMtu, 1500);
    assert.equal(c.geneveMaxHeaderSize, 30);
    assert.equal(c.overlayIpVersion, 4);
    assert.equal(c.externalNetworkType, null);
  });

  test('flat_networks: * is any, a list restricts, empty disables', () => {
    assert.deepEqual(ml2Config(loadConfig([], [['ml2_type_flat', 'flat_networks', 'a, b']])).flatNetworks, ['a', 'b']);
    assert.deepEqual(ml2Config(loadConfig([], [['ml2_type_flat', 'flat_networks', '']])).flatNetworks, []);
  });

  test('types must be known, and tenant/external types among type_drivers', () => {
    throwsConfig(
      () => ml2Config(loadConfig([], [['ml2', 'type_drivers', 'vxlan,foo']])),
      /type_drivers: unknown type driver 'foo'/,
    );
    throwsConfig(
      () => ml2Config(loadConfig([], [['ml2', 'type_drivers', 'flat,vlan']])),
      /tenant_network_types: no type driver for 'vxlan'/,
    );
    throwsConfig(
      () =>
        ml2Config(
          loadConfig(
            [],
            [
              ['ml2', 'external_network_type', 'gre'],
              ['ml2', 'type_drivers', 'vxlan'],
            ],
          ),
        ),
      /external_network_type: no type driver for 'gre'/,
    );
  });

  test('range options are parsed with their option names', () => {
    throwsConfig(
      () => ml2Config(loadConfig([], [['ml2_type_gre', 'tunnel_id_ranges', '5']])),
      /\[ml2_type_gre\] tunnel_id_ranges/,
    );
    throwsConfig(() => ml2Config(loadConfig([], [['ml2_type_geneve', 'vni_ranges', '2:1']])), /\[ml2_type_geneve\] vni_ranges/);
    throwsConfig(() => ml2Config(loadConfig([], [['ml2_type_vlan', 'network_vlan_ranges', 'p:1']])), /network_vlan_ranges/);
  });
});
