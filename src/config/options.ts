// The configuration options Neutrino understands, with Neutron's section and option names and
// defaults. Anything else in a config file stops startup: a typo must not silently do nothing.

export type OptionType = 'string' | 'int' | 'bool' | 'list' | 'port' | 'url';

export interface OptionDef {
  type: OptionType;
  default: unknown;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Accepted for neutron.conf compatibility; has no effect in Neutrino. */
  ignored?: boolean;
  help?: string;
}

const str = (d: string | null, extra: Partial<OptionDef> = {}): OptionDef => ({ type: 'string', default: d, ...extra });
const int = (d: number, extra: Partial<OptionDef> = {}): OptionDef => ({ type: 'int', default: d, ...extra });
const bool = (d: boolean, extra: Partial<OptionDef> = {}): OptionDef => ({ type: 'bool', default: d, ...extra });
const list = (d: string[], extra: Partial<OptionDef> = {}): OptionDef => ({ type: 'list', default: d, ...extra });

export const OPTIONS: Record<string, Record<string, OptionDef>> = {
  DEFAULT: {
    bind_host: str('127.0.0.1', { help: 'Address the API listens on' }),
    bind_port: { type: 'port', default: 9696 },
    auth_strategy: str('noauth', { choices: ['noauth', 'keystone'] }),
    core_plugin: str('ml2', { choices: ['ml2', 'neutron.plugins.ml2.plugin.Ml2Plugin'] }),
    service_plugins: list([]),
    api_workers: int(1, { min: 1 }),
    base_mac: str('fa:16:3e:00:00:00'),
    mac_generation_retries: int(16, { min: 1 }),
    allow_bulk: bool(true),
    allow_overlapping_ips: bool(true),
    pagination_max_limit: int(-1, { min: -1 }),
    filter_validation: bool(true),
    max_dns_nameservers: int(5, { min: 0 }),
    max_subnet_host_routes: int(20, { min: 0 }),
    max_allowed_address_pair: int(10, { min: 0 }),
    global_physnet_mtu: int(1500, { min: 68 }),
    ipv6_pd_enabled: bool(false),
    default_ipv4_subnet_pool: str(null, { ignored: true }),
    default_ipv6_subnet_pool: str(null, { ignored: true }),
    state_path: str('/var/lib/neutrino'),
    host: str(null),
    transport_url: str(null),
    control_exchange: str('neutron', { help: 'The AMQP exchange of RPC topic queues' }),
    debug: bool(false),
    verbose: bool(false, { ignored: true }),
    log_file: str(null),
    log_dir: str(null),
    use_syslog: bool(false, { ignored: true }),
    rpc_response_timeout: int(60, { min: 1 }),
    agent_down_time: int(75, { min: 1 }),
    enable_new_agents: bool(true, { help: 'Whether a newly registered agent starts with admin_state_up' }),
    // Routers (src/plugins/l3): their defaults and their scheduling to L3 agents.
    router_scheduler_driver: str('neutron.scheduler.l3_agent_scheduler.LeastRoutersScheduler', {
      choices: [
        'neutron.scheduler.l3_agent_scheduler.LeastRoutersScheduler',
        'neutron.scheduler.l3_agent_scheduler.ChanceScheduler',
        'neutron.scheduler.l3_agent_scheduler.AZLeastRoutersScheduler',
      ],
    }),
    router_auto_schedule: bool(true, { help: 'Schedule unhosted routers to an L3 agent when it syncs' }),
    allow_automatic_l3agent_failover: bool(false, { help: 'Move routers off L3 agents that are dead' }),
    l3_ha: bool(false, { help: 'Default of ha for new routers (the HA data path is not built yet)' }),
    max_l3_agents_per_router: int(3, { min: 0 }),
    router_distributed: bool(false, { help: 'Default of distributed for new routers (the DVR data path is not built yet)' }),
    enable_snat_by_default: bool(true),
    max_routes: int(30, { min: 0 }),
    dhcp_agent_notification: bool(true, { help: 'Tell DHCP agents about network, subnet and port changes' }),
    notify_nova_on_port_status_changes: bool(true, { ignored: true }),
    notify_nova_on_port_data_changes: bool(true, { ignored: true }),
    dns_domain: str('openstacklocal'),
    external_dns_driver: str(null, { ignored: true }),
    vlan_transparent: bool(false, { ignored: true }),
    // The DHCP agent scheduler (server; src/plugins/dhcp).
    dhcp_agents_per_network: int(1, { min: 1, help: 'How many DHCP agents serve each network' }),
    network_auto_schedule: bool(true, { help: 'Schedule networks to DHCP agents automatically' }),
    allow_automatic_dhcp_failover: bool(true, {
      help: 'Move networks off DHCP agents that stopped reporting (dead for 2 × agent_down_time)',
    }),
    enable_services_on_agents_with_admin_state_down: bool(false),
    enable_traditional_dhcp: bool(true, { help: 'DHCP agents and their scheduler (false: no DHCP agent is used)' }),
    network_scheduler_driver: str('neutron.scheduler.dhcp_agent_scheduler.WeightScheduler', { ignored: true }),
    dhcp_load_type: str('networks', { choices: ['networks', 'subnets', 'ports'], ignored: true }),
    // The DHCP agent (src/agents/dhcp), Neutron's dhcp_agent.ini options.
    dhcp_driver: str('neutron.agent.linux.dhcp.Dnsmasq', {
      choices: ['neutron.agent.linux.dhcp.Dnsmasq', 'dnsmasq'],
      help: 'The DHCP server: dnsmasq',
    }),
    interface_driver: str('linuxbridge', {
      choices: [
        'linuxbridge',
        'openvswitch',
        'neutron.agent.linux.interface.BridgeInterfaceDriver',
        'neutron.agent.linux.interface.OVSInterfaceDriver',
      ],
      help: "How agents plug their ports: a veth whose tap the host's Linux bridge agent wires, or (openvswitch) a port of [ovs] integration_bridge",
    }),
    dhcp_confs: str('', { help: "Where dnsmasq's files go, one directory per network (empty: <state_path>/dhcp)" }),
    dhcp_lease_duration: int(86400, { min: -1, help: 'DHCP lease duration, seconds (-1: infinite)' }),
    dhcp_renewal_time: int(0, { min: 0, help: 'DHCP option 58 (T1), seconds; 0: the client decides' }),
    dhcp_rebinding_time: int(0, { min: 0, help: 'DHCP option 59 (T2), seconds; 0: the client decides' }),
    dhcp_broadcast_reply: bool(false, { help: 'Broadcast DHCP replies' }),
    dnsmasq_dns_servers: list([], { help: "Upstream DNS servers of dnsmasq's resolver (it answers the network's names itself)" }),
    dnsmasq_local_resolv: bool(false, { help: "Let dnsmasq use this host's resolv.conf for other names" }),
    dnsmasq_lease_max: int(2 ** 24, { min: 1, help: 'Most leases dnsmasq hands out per network' }),
    dnsmasq_config_file: str('', { help: 'An extra dnsmasq configuration file' }),
    dnsmasq_base_log_dir: str(null, { help: 'Per-network dnsmasq DHCP/DNS query logs under this directory (unset: none)' }),
    dnsmasq_enable_addr6_list: bool(false, { ignored: true }),
    enable_isolated_metadata: bool(false, { help: 'Serve metadata on isolated networks (not implemented: must stay false)' }),
    force_metadata: bool(false, { help: 'Serve metadata from the DHCP namespace (not implemented: must stay false)' }),
    enable_metadata_network: bool(false, { ignored: true }),
    num_sync_threads: int(4, { min: 1, help: 'How many networks the DHCP agent configures at once' }),
    resync_interval: int(5, { min: 1, help: 'Seconds between full reconciliations of the DHCP agent with the server' }),
    // The L3 agent (src/agents/l3), Neutron's l3_agent.ini options.
    agent_mode: str('legacy', {
      choices: ['legacy'],
      help: 'The L3 agent serves every router as a legacy one (the DVR modes are not built)',
    }),
    periodic_interval: int(40, { min: 1, help: "Seconds between the L3 agent's full syncs of its routers with the server" }),
    send_arp_for_ha: int(3, {
      min: 0,
      max: 100,
      help: 'Gratuitous ARPs the L3 agent sends for each new gateway or floating address (0: none)',
    }),
  },
  database: {
    connection: str(null, { help: 'SQLAlchemy-style URL: sqlite:////abs/path or postgresql://user:pass@host:port/db' }),
    max_retries: int(10, { ignored: true }),
    max_pool_size: int(5, { min: 1 }),
  },
  // ML2 (src/plugins/ml2). Two embedded defaults differ from Neutron's so that `neutrino
  // all-in-one` with no config creates tenant networks that reach across hosts, as devstack's
  // all-in-one does: tenant networks are VXLAN (Neutron: 'local', no connectivity between hosts)
  // from VNIs 1:1000 (Neutron: none, so every tenant network would be 503 NoNetworkAvailable),
  // and VLAN networks may use physnet1 with a tenant pool of 100:200 (Neutron: no VLAN physnet),
  // the ML2 setup of the conformance oracle (../shared/conformance/neutron-up.sh).
  ml2: {
    type_drivers: list(['local', 'flat', 'vlan', 'gre', 'vxlan', 'geneve']),
    tenant_network_types: list(['vxlan'], { help: 'Ordered network types of tenant networks (Neutron default: local)' }),
    external_network_type: str(null, { help: 'Type of external networks created without provider attributes' }),
    mechanism_drivers: list(['linuxbridge']),
    extension_drivers: list(['port_security']),
    path_mtu: int(0, { min: 0 }),
    physical_network_mtus: list([], { help: '<physnet>:<mtu> mappings' }),
    overlay_ip_version: int(4, { choices: ['4', '6'] }),
  },
  ml2_type_flat: { flat_networks: list(['*'], { help: "Physical networks of flat networks; '*' = any, empty = none" }) },
  ml2_type_vlan: {
    network_vlan_ranges: list(['physnet1:100:200'], { help: '<physnet>[:<vlan_min>:<vlan_max>] (Neutron default: none)' }),
  },
  ml2_type_vxlan: {
    vni_ranges: list(['1:1000'], { help: '<vni_min>:<vni_max> (Neutron default: none)' }),
    vxlan_group: str(null),
  },
  ml2_type_gre: { tunnel_id_ranges: list([]) },
  // 30 = neutron-lib's GENEVE_ENCAP_MIN_OVERHEAD, Neutron's default; OVN needs at least 38.
  ml2_type_geneve: { vni_ranges: list([]), max_header_size: int(30, { min: 0 }) },
  quotas: {
    quota_network: int(100),
    quota_subnet: int(100),
    quota_port: int(500),
    quota_router: int(10),
    quota_floatingip: int(50),
    quota_security_group: int(10),
    quota_security_group_rule: int(100),
    quota_rbac_policy: int(10),
    default_quota: int(-1, { help: 'Limit of a resource without a quota_<resource> option; -1 = unlimited' }),
    track_quota_usage: bool(true, { ignored: true }),
    quota_driver: str(null, { ignored: true }),
  },
  keystone_authtoken: {
    auth_url: str(null),
    www_authenticate_uri: str(null),
    auth_type: str('password'),
    username: str(null),
    password: str(null),
    project_name: str(null),
    user_domain_name: str('Default'),
    project_domain_name: str('Default'),
    region_name: str(null, { ignored: true }),
    memcached_servers: str(null, { ignored: true }),
    token_cache_time: int(300, { min: 0 }),
    http_connect_timeout: int(30, { min: 1 }),
  },
  oslo_policy: {
    policy_file: str('policy.yaml'),
  },
  // Agents (src/agents), with the Neutron agents' section and option names and defaults.
  agent: {
    report_interval: int(30, { min: 0, help: 'Seconds between report_state heartbeats; 0 = no reports' }),
    polling_interval: int(2, { min: 1, help: 'Seconds between reconciliations of the host with the server' }),
    availability_zone: str('nova'),
    // Neutron: 60. Neutrino looks at /proc, which costs next to nothing, so a dead dnsmasq is back in seconds.
    check_child_processes_interval: int(2, { min: 0, help: "Seconds between checks of agents' child processes (0: never)" }),
    check_child_processes_action: str('respawn', { choices: ['respawn'], help: 'What to do with a dead child process' }),
    // Neutrino's own: one machine simulates several hosts. The namespace standing for this host:
    // the DHCP and L3 agents put their ports' taps there and name their namespaces
    // `<host_namespace>-qdhcp-<network-id>` / `<host_namespace>-qrouter-<router-id>`, so two agents
    // of one network or router on one machine do not collide. Empty: a real host, Neutron's names.
    host_namespace: str('', {
      help: "Namespace standing for this host (simulated hosts): agents' taps go there, their namespaces are prefixed '<NS>-'",
    }),
    // The Open vSwitch agent's (Neutron's [agent] of openvswitch_agent.ini).
    tunnel_types: list([], { help: 'Tunnel network types of the Open vSwitch agent: vxlan, gre, geneve' }),
    vxlan_udp_port: { type: 'port', default: 4789 },
    l2_population: bool(false, { help: 'Open vSwitch agent: tunnel ports and forwarding from l2population' }),
    arp_responder: bool(false, { help: 'Open vSwitch agent: answer ARP for remote ports on br-tun (needs l2_population)' }),
    dont_fragment: bool(true, { help: 'Open vSwitch agent: set DF on tunnel packets' }),
    veth_mtu: int(9000, { min: 68, ignored: true, help: 'Accepted: the bridges are joined by patch ports, not veths' }),
  },
  // The Open vSwitch agent (src/agents/openvswitch), Neutron's [ovs] names and defaults unless said.
  ovs: {
    integration_bridge: str('br-int'),
    tunnel_bridge: str('br-tun'),
    int_peer_patch_port: str('patch-tun'),
    tun_peer_patch_port: str('patch-int'),
    local_ip: str(null, { help: "This host's tunnel endpoint address" }),
    bridge_mappings: list([], { help: '<physnet>:<bridge> mappings (the bridges exist, created by the operator)' }),
    datapath_type: str('system', { choices: ['system', 'netdev'], help: 'netdev: the userspace datapath' }),
    of_inactivity_probe: int(10, {
      min: 0,
      help: 'Seconds between echo probes of the connection to the switch (OVSDB; ovs-ofctl calls are short); 0 = none',
    }),
    of_request_timeout: int(300, { min: 1, help: 'Seconds one ovs-ofctl call may take' }),
    ovsdb_connection: str('unix:/var/run/openvswitch/db.sock', {
      help: "ovsdb-server: unix:PATH or tcp:HOST:PORT (Neutron's default tcp:127.0.0.1:6640 needs a manager set)",
    }),
    ovsdb_timeout: int(10, { min: 1, help: 'Seconds an OVSDB transaction (and ovs-vswitchd applying it) may take' }),
    // Neutrino's own.
    ovs_rundir: str('', {
      help: "ovs-vswitchd's run directory with the bridges' .mgmt sockets (default: that of the ovsdb_connection socket)",
    }),
    sflow_targets: list([], { help: 'sFlow collectors (host:port) of br-int; empty: no sFlow' }),
    sflow_sampling: int(64, { min: 1, help: 'sFlow: one packet in N is sampled' }),
    sflow_polling: int(10, { min: 1, help: 'sFlow: seconds between interface counter samples' }),
    netflow_targets: list([], { help: 'NetFlow v5 collectors (host:port) of br-int; empty: no NetFlow' }),
    netflow_active_timeout: int(60, { min: -1, help: 'NetFlow: seconds before a long flow is reported; -1 = never' }),
  },
  linux_bridge: {
    physical_interface_mappings: list([], { help: '<physnet>:<interface> mappings' }),
    bridge_mappings: list([], { help: '<physnet>:<bridge> mappings' }),
    // Neutrino's own: one machine simulates several hosts, each agent wiring one namespace.
    namespace: str('', { help: 'Network namespace the agent wires instead of this host (empty: the host itself)' }),
  },
  vxlan: {
    enable_vxlan: bool(true),
    local_ip: str(null, { help: "This host's tunnel endpoint (VTEP) address" }),
    l2_population: bool(false),
    vxlan_group: str('224.0.0.1', {
      help: 'Multicast group of VXLAN broadcast/unknown traffic without l2_population (empty: none)',
    }),
    ttl: int(0, { min: 0, ignored: true }),
    tos: int(0, { min: 0, ignored: true }),
  },
  // oslo.middleware's sizelimit: a larger request body is refused with 413 before it is read whole.
  oslo_middleware: {
    max_request_body_size: int(114688, { min: 1, help: 'The largest request body, in bytes' }),
  },
  securitygroup: {
    enable_security_group: bool(true, { help: 'Filter ports (port security, security groups); false = the noop driver' }),
    firewall_driver: str('nftables', {
      help:
        "Linux bridge agent: nftables (Neutron's iptables is read as nftables) or noop; " +
        "Open vSwitch agent: openvswitch (Neutron's native OVS firewall, its default; nftables is read as it) or noop",
    }),
    // Remote groups are always nft sets (Neutron's ipsets); accepted for linuxbridge_agent.ini.
    enable_ipset: bool(true, { ignored: true }),
  },
  // RabbitMQ (src/rpc/amqp), with oslo.messaging's option names and defaults.
  oslo_messaging_rabbit: {
    heartbeat_timeout_threshold: int(60, { min: 0, help: 'AMQP heartbeat, s: a silent broker is gone after this; 0 = off' }),
    heartbeat_rate: int(3, { min: 1, ignored: true }),
    rabbit_retry_interval: int(1, { min: 1, help: 'Seconds before the first reconnection attempt' }),
    rabbit_retry_backoff: int(2, {
      min: 1,
      help: 'Each reconnection delay is the previous one times this (oslo adds it instead)',
    }),
    rabbit_interval_max: int(30, { min: 1, help: 'Longest delay between reconnection attempts, s' }),
    amqp_durable_queues: bool(false, { help: 'Durable topic exchange and queues (must match the other services)' }),
    amqp_auto_delete: bool(false, { help: 'Auto-deleted topic exchange and queues (must match the other services)' }),
    rabbit_transient_queues_ttl: int(1800, { min: 1, help: 'Seconds before unused reply and fanout queues expire' }),
    rabbit_ha_queues: bool(false, { ignored: true }),
    rabbit_qos_prefetch_count: int(0, { min: 0, ignored: true }),
  },
};
