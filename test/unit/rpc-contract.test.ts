// The typed server↔agent contract over the local bus: the agent's ServerRpcClient against
// serveAgentRpc, the server's AgentNotifier against the agents' listening helpers, and the Neutron
// topics, method names and argument shapes they put on the wire.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  AgentNotifier,
  L3PluginRpcClient,
  type L3PluginRpcHandlers,
  listenAgentNotifications,
  listenDhcpAgent,
  listenL3Agent,
  osloTime,
  ServerRpcClient,
  type ServerRpcHandlers,
  serveAgentRpc,
  serveL3PluginRpc,
} from '../../src/rpc/clients.js';
import {
  type AgentState,
  DEVICE_OWNER,
  FLOODING_ENTRY,
  type HostState,
  type ReportStateArgs,
  type SyncRouter,
  TOPIC,
} from '../../src/rpc/contract.js';
import { RemoteFault, RpcRemoteError } from '../../src/rpc/errors.js';
import { LocalBus } from '../../src/rpc/local/index.js';
import { silentLogger, type Transport } from '../../src/rpc/transport.js';
import { until } from '../rpc/transport.case.js';

const bus = new LocalBus();
const transports: Transport[] = [];
const open = () => {
  const t = bus.connect({ log: silentLogger, timeoutMs: 2000 });
  transports.push(t);
  return t;
};
after(() => Promise.all(transports.map((t) => t.close())));

const STATE: AgentState = {
  binary: 'neutrino-linuxbridge-agent',
  host: 'compute1',
  topic: 'N/A',
  agent_type: 'Linux bridge agent',
  configurations: { interface_mappings: { physnet1: 'eth1' }, tunnel_types: ['vxlan'], l2_population: true },
  start_flag: true,
  availability_zone: 'nova',
};

const HOST_STATE: HostState = {
  host: 'compute1',
  ports: [
    {
      id: 'p1',
      network_id: 'n1',
      mac_address: 'fa:16:3e:00:00:01',
      fixed_ips: [{ subnet_id: 's1', ip_address: '10.0.0.5' }],
      admin_state_up: true,
      status: 'DOWN',
      device_owner: 'compute:nova',
      device_id: 'vm1',
      network_type: 'vxlan',
      physical_network: null,
      segmentation_id: 1001,
      mtu: 1450,
      port_security_enabled: true,
      allowed_address_pairs: [],
      security_groups: ['sg1'],
      revision_number: 3,
    },
  ],
  networks: [
    {
      id: 'n1',
      admin_state_up: true,
      mtu: 1450,
      segments: [{ network_type: 'vxlan', physical_network: null, segmentation_id: 1001 }],
      revision_number: 2,
    },
  ],
  security_groups: { sg1: { id: 'sg1', stateful: true, revision_number: 1, rules: [] } },
  sg_member_ips: { sg1: { IPv4: ['10.0.0.5'], IPv6: [] } },
  fdb: {
    n1: { segment_id: 1001, network_type: 'vxlan', ports: { '192.0.2.2': [FLOODING_ENTRY, ['fa:16:3e:00:00:02', '10.0.0.6']] } },
  },
};

test('an agent calls the server through ServerRpcClient; serveAgentRpc routes each method to its topic', async () => {
  const [server, agent] = [open(), open()];
  const reports: ReportStateArgs[] = [];
  const topics: Record<string, string> = {};
  // A class instance, as the server's plugin would implement it: methods are called bound.
  class Handlers implements ServerRpcHandlers {
    private readonly status = 'AGENT_NEW' as const;
    report_state(args: ReportStateArgs, ctx: { topic: string }) {
      reports.push(args);
      topics.report_state = ctx.topic;
      return this.status;
    }
    async get_host_state(args: { host: string; agent_id: string }, ctx: { topic: string }) {
      topics.get_host_state = ctx.topic;
      assert.deepEqual(args, { host: 'compute1', agent_id: 'lb-compute1' });
      return HOST_STATE;
    }
    get_security_group_info(args: { security_groups: string[]; remote_groups: string[] }, ctx: { topic: string }) {
      topics.get_security_group_info = ctx.topic;
      return {
        security_groups: Object.fromEntries(
          args.security_groups.map((id) => [id, { id, stateful: true, revision_number: 1, rules: [] }]),
        ),
        sg_member_ips: Object.fromEntries(args.remote_groups.map((id) => [id, { IPv4: ['10.0.0.5'], IPv6: [] }])),
      };
    }
    get_devices_details_list(args: { devices: string[] }) {
      return args.devices.map((device) => ({ device }));
    }
    update_device_list(args: { devices_up: string[]; devices_down: string[]; refresh_tunnels?: boolean }) {
      assert.equal(args.refresh_tunnels, true);
      return { devices_up: args.devices_up, failed_devices_up: [], devices_down: [], failed_devices_down: args.devices_down };
    }
    update_device_up() {
      return null;
    }
    update_device_down(args: { device: string }) {
      if (args.device === 'gone') throw new RemoteFault('PortNotFound', 'Port gone could not be found.');
      return { device: args.device, exists: true };
    }
    tunnel_sync(args: { tunnel_ip: string; host: string }) {
      return { tunnels: [{ ip_address: args.tunnel_ip, host: args.host }] };
    }
  }
  const listener = await serveAgentRpc(server, new Handlers(), { host: 'controller' });
  const client = new ServerRpcClient(agent, { host: 'compute1', agentId: 'lb-compute1' });

  assert.equal(await client.reportState(STATE), 'AGENT_NEW');
  await client.castReportState({ ...STATE, start_flag: false });
  await until(() => reports.length === 2, 2000, 'the cast report');
  assert.deepEqual(reports[0].agent_state.agent_state, STATE, 'nested as Neutron nests it');
  assert.match(reports[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal(topics.report_state, TOPIC.REPORTS);

  assert.deepEqual(await client.getHostState(), HOST_STATE);
  assert.equal(topics.get_host_state, TOPIC.PLUGIN);
  assert.deepEqual(await client.getSecurityGroupInfo(['sg1'], ['sg2']), {
    security_groups: { sg1: { id: 'sg1', stateful: true, revision_number: 1, rules: [] } },
    sg_member_ips: { sg2: { IPv4: ['10.0.0.5'], IPv6: [] } },
  });
  assert.equal(topics.get_security_group_info, TOPIC.PLUGIN);
  assert.deepEqual(await client.getDevicesDetailsList(['p1', 'p2']), [{ device: 'p1' }, { device: 'p2' }]);
  assert.deepEqual(await client.updateDeviceList(['p1'], ['p2'], true), {
    devices_up: ['p1'],
    failed_devices_up: [],
    devices_down: [],
    failed_devices_down: ['p2'],
  });
  assert.equal(await client.updateDeviceUp('p1'), null);
  assert.deepEqual(await client.updateDeviceDown('p1'), { device: 'p1', exists: true });
  await assert.rejects(client.updateDeviceDown('gone'), (e: unknown) => e instanceof RpcRemoteError && e.type === 'PortNotFound');
  assert.deepEqual(await client.tunnelSync('192.0.2.1', 'vxlan'), { tunnels: [{ ip_address: '192.0.2.1', host: 'compute1' }] });
  // neutron-server's own queues answer too: `q-plugin.<host>`.
  assert.deepEqual(await agent.call({ topic: TOPIC.PLUGIN, server: 'controller' }, 'update_device_up', { device: 'x' }), null);
  await listener.stop();
});

test('a server that implements only some methods answers NoSuchMethod for the others', async () => {
  const [server, agent] = [open(), open()];
  const l = await serveAgentRpc(server, { report_state: () => 'AGENT_ALIVE' as const });
  const client = new ServerRpcClient(agent, { host: 'h' });
  assert.equal(await client.reportState(STATE), 'AGENT_ALIVE');
  await assert.rejects(client.getHostState(), (e: unknown) => e instanceof RpcRemoteError && e.type === 'NoSuchMethod');
  await l.stop();
});

test('AgentNotifier fans out on Neutron’s q-agent-notifier topics; agents get what they listen for', async () => {
  const [server, agent1, agent2, raw] = [open(), open(), open(), open()];
  const got: Array<[string, string, unknown]> = [];
  const handlers = (who: string) => ({
    port_update: (a: unknown) => void got.push([who, 'port_update', a]),
    port_delete: (a: unknown) => void got.push([who, 'port_delete', a]),
    network_delete: (a: unknown) => void got.push([who, 'network_delete', a]),
    security_groups_member_updated: (a: unknown) => void got.push([who, 'sg_member', a]),
    add_fdb_entries: (a: unknown) => void got.push([who, 'add_fdb', a]),
    tunnel_update: (a: unknown) => void got.push([who, 'tunnel_update', a]),
  });
  await listenAgentNotifications(agent1, 'compute1', handlers('c1'));
  await listenAgentNotifications(agent2, 'compute2', handlers('c2'));
  // What goes over the wire, seen by a raw fanout listener of Neutron's topic names.
  const wire: Array<[string, string, unknown]> = [];
  for (const topic of [
    'q-agent-notifier-port-update',
    'q-agent-notifier-security_group-update',
    'q-agent-notifier-tunnel-update',
  ]) {
    await raw.fanoutListen(topic, {
      port_update: (a: unknown, ctx) => void wire.push([topic, ctx.method, a]),
      security_groups_member_updated: (a: unknown, ctx) => void wire.push([topic, ctx.method, a]),
      tunnel_update: (a: unknown, ctx) => void wire.push([topic, ctx.method, a]),
    });
  }
  const n = new AgentNotifier(server);
  await n.portUpdate(
    { id: 'p1', network_id: 'n1', revision_number: 4 },
    { network_type: 'vxlan', segmentation_id: 1001, physical_network: null },
  );
  await n.portDelete('p2', 'n1');
  await n.networkDelete('n9');
  await n.securityGroupsMemberUpdated(['sg1']);
  await n.tunnelUpdate('192.0.2.9', 'vxlan');
  const fdb = { n1: { segment_id: 1001, network_type: 'vxlan', ports: { '192.0.2.9': [FLOODING_ENTRY] } } };
  await n.addFdbEntries(fdb, 'compute2'); // to one host only
  await n.networkUpdate({ id: 'n1' }); // nobody listens: dropped quietly
  await until(() => got.length >= 11 && wire.length >= 3, 2000, 'the notifications');
  const of = (who: string) => got.filter(([w]) => w === who).map(([, m, a]) => [m, a]);
  const common = [
    [
      'port_update',
      {
        port: { id: 'p1', network_id: 'n1', revision_number: 4 },
        network_type: 'vxlan',
        segmentation_id: 1001,
        physical_network: null,
      },
    ],
    ['port_delete', { port_id: 'p2', network_id: 'n1' }],
    ['network_delete', { network_id: 'n9' }],
    ['sg_member', { security_groups: ['sg1'] }],
    ['tunnel_update', { tunnel_ip: '192.0.2.9', tunnel_type: 'vxlan' }],
  ];
  assert.deepEqual(of('c1'), common);
  assert.deepEqual(of('c2'), [...common, ['add_fdb', { fdb_entries: fdb }]]);
  assert.deepEqual(
    wire.map(([t, m]) => [t, m]),
    [
      ['q-agent-notifier-port-update', 'port_update'],
      ['q-agent-notifier-security_group-update', 'security_groups_member_updated'],
      ['q-agent-notifier-tunnel-update', 'tunnel_update'],
    ],
  );
});

test('DHCP and L3 agent notifications: to dhcp_agent.<host>, and to l3_agent fanout or one host', async () => {
  const [server, dhcp1, dhcp2, l3a, l3b] = [open(), open(), open(), open(), open()];
  const got: string[] = [];
  await listenDhcpAgent(dhcp1, 'net1', { port_update_end: ({ payload }) => void got.push(`dhcp1:${payload.port?.id}`) });
  await listenDhcpAgent(dhcp2, 'net2', { network_delete_end: ({ payload }) => void got.push(`dhcp2:${payload.network_id}`) });
  await listenL3Agent(l3a, 'netA', { routers_updated: ({ routers }) => void got.push(`l3a:${routers.join(',')}`) });
  await listenL3Agent(l3b, 'netB', {
    routers_updated: ({ routers }) => void got.push(`l3b:${routers.join(',')}`),
    router_deleted: ({ router_id }) => void got.push(`l3b-del:${router_id}`),
  });
  const n = new AgentNotifier(server);
  await n.dhcp('net1', 'port_update_end', { port: { id: 'p1', network_id: 'n1' } });
  await n.dhcp('net2', 'network_delete_end', { network_id: 'n2' });
  await n.routersUpdated(['r1', 'r2']);
  await n.routerDeleted('r3', 'netB');
  await until(() => got.length >= 5, 2000, 'five notifications');
  assert.deepEqual([...got].sort(), ['dhcp1:p1', 'dhcp2:n2', 'l3a:r1,r2', 'l3b-del:r3', 'l3b:r1,r2']);
});

/** One router as sync_routers returns it: a gateway on 203.0.113.0/24, one interface, one floating IP. */
const ROUTER: SyncRouter = {
  id: 'r1',
  name: 'router1',
  description: '',
  project_id: 'p1',
  tenant_id: 'p1',
  admin_state_up: true,
  status: 'ACTIVE',
  ha: false,
  distributed: false,
  flavor_id: null,
  availability_zone_hints: [],
  external_gateway_info: {
    network_id: 'ext',
    enable_snat: true,
    external_fixed_ips: [{ subnet_id: 'ext-s', ip_address: '203.0.113.10' }],
  },
  gw_port_id: 'gw1',
  enable_snat: true,
  gw_port: {
    id: 'gw1',
    name: '',
    network_id: 'ext',
    mac_address: 'fa:16:3e:00:00:10',
    fixed_ips: [{ subnet_id: 'ext-s', ip_address: '203.0.113.10', prefixlen: 24 }],
    subnets: [
      {
        id: 'ext-s',
        cidr: '203.0.113.0/24',
        gateway_ip: '203.0.113.1',
        ip_version: 4,
        dns_nameservers: [],
        ipv6_ra_mode: null,
        subnetpool_id: null,
      },
    ],
    extra_subnets: [],
    address_scopes: { '4': null, '6': null },
    mtu: 1500,
    device_owner: DEVICE_OWNER.ROUTER_GW,
    device_id: 'r1',
    admin_state_up: true,
    status: 'ACTIVE',
    project_id: '',
    tenant_id: '',
    'binding:host_id': 'net1',
    revision_number: 4,
  },
  routes: [{ destination: '10.9.0.0/24', nexthop: '10.0.0.20' }],
  _interfaces: [
    {
      id: 'if1',
      name: '',
      network_id: 'n1',
      mac_address: 'fa:16:3e:00:00:11',
      fixed_ips: [{ subnet_id: 's1', ip_address: '10.0.0.1', prefixlen: 24 }],
      subnets: [
        {
          id: 's1',
          cidr: '10.0.0.0/24',
          gateway_ip: '10.0.0.1',
          ip_version: 4,
          dns_nameservers: [],
          ipv6_ra_mode: null,
          subnetpool_id: null,
        },
      ],
      extra_subnets: [],
      address_scopes: { '4': null, '6': null },
      mtu: 1450,
      device_owner: DEVICE_OWNER.ROUTER_INTF,
      device_id: 'r1',
      admin_state_up: true,
      status: 'DOWN',
      project_id: 'p1',
      tenant_id: 'p1',
      'binding:host_id': 'net1',
      revision_number: 3,
    },
  ],
  _floatingips: [
    {
      id: 'f1',
      floating_ip_address: '203.0.113.20',
      floating_network_id: 'ext',
      port_id: 'vm-port',
      fixed_ip_address: '10.0.0.5',
      router_id: 'r1',
      status: 'DOWN',
      project_id: 'p1',
      tenant_id: 'p1',
      fixed_ip_address_scope: null,
      revision_number: 1,
    },
  ],
  revision_number: 7,
};

test('an L3 agent calls the L3 service plugin on q-l3-plugin through L3PluginRpcClient', async () => {
  const [server, agent] = [open(), open()];
  const calls: Array<[string, unknown, string]> = [];
  const handlers: L3PluginRpcHandlers = {
    sync_routers: (args, ctx) => {
      calls.push(['sync_routers', args, ctx.topic]);
      return args.router_ids ? [ROUTER].filter((r) => args.router_ids?.includes(r.id)) : [ROUTER];
    },
    get_router_ids: (args) => {
      calls.push(['get_router_ids', args, '']);
      return ['r1'];
    },
    update_floatingip_statuses: (args) => {
      calls.push(['update_floatingip_statuses', args, '']);
      return null;
    },
    get_service_plugin_list: () => ['router'],
  };
  const l = await serveL3PluginRpc(server, handlers, { host: 'controller' });
  const client = new L3PluginRpcClient(agent, { host: 'net1' });
  assert.deepEqual(await client.syncRouters(), [ROUTER]);
  assert.deepEqual(await client.syncRouters(['r9']), []);
  assert.deepEqual(await client.getRouterIds(), ['r1']);
  assert.equal(await client.updateFloatingipStatuses('r1', { f1: 'ACTIVE' }), null);
  assert.deepEqual(await client.getServicePluginList(), ['router']);
  assert.deepEqual(calls, [
    ['sync_routers', { host: 'net1' }, TOPIC.L3_PLUGIN],
    ['sync_routers', { host: 'net1', router_ids: ['r9'] }, TOPIC.L3_PLUGIN],
    ['get_router_ids', { host: 'net1' }, ''],
    ['update_floatingip_statuses', { router_id: 'r1', fip_statuses: { f1: 'ACTIVE' } }, ''],
  ]);
  // As Neutron's agent sends them: raw calls on 'q-l3-plugin' with keyword arguments.
  assert.deepEqual(await agent.call({ topic: 'q-l3-plugin' }, 'get_router_ids', { host: 'x' }), ['r1']);
  await assert.rejects(
    agent.call({ topic: 'q-l3-plugin' }, 'get_agent_gateway_port', { host: 'x', network_id: 'ext' }),
    (e: unknown) => e instanceof RpcRemoteError && e.type === 'NoSuchMethod',
  );
  await l.stop();
});

test('L3 agent notifications: scheduling changes to one host, router_deleted to all', async () => {
  const [server, a, b] = [open(), open(), open()];
  const got: Array<[string, string, unknown]> = [];
  const handlers = (who: string) => ({
    routers_updated: (x: unknown) => void got.push([who, 'routers_updated', x]),
    router_deleted: (x: unknown) => void got.push([who, 'router_deleted', x]),
    router_added_to_agent: (x: unknown) => void got.push([who, 'router_added_to_agent', x]),
    router_removed_from_agent: (x: unknown) => void got.push([who, 'router_removed_from_agent', x]),
    agent_updated: (x: unknown) => void got.push([who, 'agent_updated', x]),
  });
  await listenL3Agent(a, 'hostA', handlers('a'));
  await listenL3Agent(b, 'hostB', handlers('b'));
  const n = new AgentNotifier(server);
  await n.routerAddedToAgent(['r1', 'r2'], 'hostA');
  await n.routerRemovedFromAgent('r1', 'hostB');
  await n.routersUpdated(['r2'], 'hostA');
  await n.l3AgentUpdated(false, 'hostB');
  await n.routerDeleted('r3');
  await until(() => got.length >= 6, 2000, 'six notifications');
  // Queues are independent: compare each host's notifications by method.
  const of = (who: string) =>
    got
      .filter(([w]) => w === who)
      .map(([, m, x]) => [m, x])
      .sort((p, q) => String(p[0]).localeCompare(String(q[0])));
  assert.deepEqual(of('a'), [
    ['router_added_to_agent', { payload: ['r1', 'r2'] }],
    ['router_deleted', { router_id: 'r3' }],
    ['routers_updated', { routers: ['r2'] }],
  ]);
  assert.deepEqual(of('b'), [
    ['agent_updated', { payload: { admin_state_up: false } }],
    ['router_deleted', { router_id: 'r3' }],
    ['router_removed_from_agent', { payload: { router_id: 'r1' } }],
  ]);
});

test('osloTime is oslo’s strtime', () => {
  assert.equal(osloTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 123))), '2026-01-02T03:04:05.123000');
});
