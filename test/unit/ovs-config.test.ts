// The Open vSwitch agent's options: Neutron's names and defaults, the run directory found from the
// OVSDB socket, and clear errors for what can't work (tunnels without local_ip, unknown tunnel
// types, collectors that aren't address:port).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ovsBackendOptions, ovsConfigurations, ovsFirewall } from '../../src/cli/agent.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const cfg = (...o: Array<[string, string, unknown]>) => loadConfig([], o);

describe('Open vSwitch agent options', () => {
  it('defaults as Neutron’s, with the run directory of the OVSDB socket', () => {
    const o = ovsBackendOptions(cfg());
    assert.deepEqual(
      [
        o.integrationBridge,
        o.tunnelBridge,
        o.intPeerPatchPort,
        o.tunPeerPatchPort,
        o.datapathType,
        o.tunnelTypes,
        o.l2Population,
      ],
      ['br-int', 'br-tun', 'patch-tun', 'patch-int', 'system', [], false],
    );
    assert.equal(o.ovsdbConnection, 'unix:/var/run/openvswitch/db.sock');
    assert.equal(o.rundir, '/var/run/openvswitch');
    assert.equal(o.probeIntervalSec, 10);
    assert.equal(o.sflow, null);
  });

  it('reads the lab’s settings and reports Neutron’s configurations keys', () => {
    const c = cfg(
      ['ovs', 'local_ip', '192.0.2.11'],
      ['ovs', 'datapath_type', 'netdev'],
      ['ovs', 'ovsdb_connection', 'unix:/tmp/lab/ovs-h1/db.sock'],
      ['ovs', 'bridge_mappings', 'physnet1:br-eth1'],
      ['ovs', 'sflow_targets', '127.0.0.1:6343'],
      ['agent', 'tunnel_types', 'vxlan'],
      ['agent', 'l2_population', 'true'],
      ['agent', 'arp_responder', 'true'],
    );
    const o = ovsBackendOptions(c);
    assert.equal(o.rundir, '/tmp/lab/ovs-h1');
    assert.deepEqual(o.bridgeMappings, { physnet1: 'br-eth1' });
    assert.deepEqual(o.sflow, { targets: ['127.0.0.1:6343'], sampling: 64, polling: 10 });
    assert.equal(o.arpResponder, true);
    const conf = ovsConfigurations(c);
    assert.deepEqual(
      [conf.tunneling_ip, conf.tunnel_types, conf.datapath_type, conf.integration_bridge, conf.arp_responder_enabled],
      ['192.0.2.11', ['vxlan'], 'netdev', 'br-int', true],
    );
  });

  it('refuses tunnels without local_ip, unknown tunnel types, and collectors that aren’t address:port', () => {
    assert.throws(() => ovsBackendOptions(cfg(['agent', 'tunnel_types', 'vxlan'])), ConfigError);
    assert.throws(
      () => ovsBackendOptions(cfg(['agent', 'tunnel_types', 'stt'], ['ovs', 'local_ip', '192.0.2.1'])),
      /'stt' is not one of gre, vxlan, geneve/,
    );
    assert.throws(() => ovsBackendOptions(cfg(['ovs', 'sflow_targets', 'collector:6343'])), /not <IP address>:<port>/);
    assert.throws(
      () => ovsBackendOptions(cfg(['ovs', 'ovsdb_connection', 'ssl:1.2.3.4:6640'])),
      /not unix:\/PATH or tcp:HOST:PORT/,
    );
    assert.throws(() => cfg(['ovs', 'datapath_type', 'dpdk']), ConfigError);
  });

  it('firewall: the native OVS firewall by default and by name, noop, and the hybrid driver refused', () => {
    assert.equal(ovsFirewall(cfg()), 'openvswitch');
    assert.equal(ovsFirewall(cfg(['securitygroup', 'firewall_driver', 'openvswitch'])), 'openvswitch');
    assert.equal(ovsFirewall(cfg(['securitygroup', 'firewall_driver', 'noop'])), 'noop');
    assert.equal(ovsFirewall(cfg(['securitygroup', 'enable_security_group', 'false'])), 'noop');
    assert.throws(
      () => ovsFirewall(cfg(['securitygroup', 'firewall_driver', 'iptables_hybrid'])),
      /not a firewall driver of the Open vSwitch agent/,
    );
  });
});
