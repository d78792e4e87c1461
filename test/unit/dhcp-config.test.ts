// What the DHCP agent makes of a network for dnsmasq (src/agents/dhcp/config.ts), in Neutron's
// formats: hosts, additional hosts and options files, the command line, the initial lease file;
// and what never reaches them (a user's control characters, a bad option name).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DhcpSettings, dnsmasqConfig, formatOption, initialLeases, rangeOf } from '../../src/agents/dhcp/config.js';
import { interfaceName, namespaceName, networkOfNamespace } from '../../src/agents/dhcp/names.js';
import type { DhcpNetwork, DhcpPort, DhcpSubnet } from '../../src/rpc/contract.js';
import { dnsmasqArgv, prefixToMask } from '../../src/system/index.js';

const NET = '11111111-1111-4111-8111-111111111111';
const S4 = 'a4444444-4444-4444-8444-444444444444';
const S4B = 'b4444444-4444-4444-8444-444444444444';
const S6 = 'c6666666-6666-4666-8666-666666666666';
const SETTINGS: DhcpSettings = {
  dnsDomain: 'openstacklocal',
  leaseDuration: 86400,
  leaseMax: 2 ** 24,
  dnsServers: [],
  localResolv: false,
  renewalTime: 0,
  rebindingTime: 0,
  broadcast: false,
  confFile: '',
};
const FILES = {
  pidFile: '/var/lib/neutrino/dhcp/n/pid',
  hostsFile: '/var/lib/neutrino/dhcp/n/host',
  addnHostsFile: '/var/lib/neutrino/dhcp/n/addn_hosts',
  optsFile: '/var/lib/neutrino/dhcp/n/opts',
  leaseFile: '/var/lib/neutrino/dhcp/n/leases',
};

function subnet(id: string, cidr: string, more: Partial<DhcpSubnet> = {}): DhcpSubnet {
  const v6 = cidr.includes(':');
  return {
    id,
    network_id: NET,
    name: '',
    cidr,
    ip_version: v6 ? 6 : 4,
    gateway_ip: v6 ? cidr.replace('/64', '1') : cidr.replace(/0\/\d+$/, '1'),
    enable_dhcp: true,
    dns_nameservers: [],
    host_routes: [],
    allocation_pools: [],
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    project_id: 'p',
    revision_number: 0,
    ...more,
  };
}

let seq = 0;
function port(fixed: Array<[string, string]>, more: Partial<DhcpPort> = {}): DhcpPort {
  seq++;
  return {
    id: `${String(seq).padStart(8, '0')}-0000-4000-8000-000000000000`,
    network_id: NET,
    name: '',
    mac_address: `fa:16:3e:00:00:${String(seq).padStart(2, '0')}`,
    fixed_ips: fixed.map(([subnet_id, ip_address]) => ({ subnet_id, ip_address })),
    device_owner: 'compute:nova',
    device_id: 'vm',
    admin_state_up: true,
    status: 'ACTIVE',
    extra_dhcp_opts: [],
    project_id: 'p',
    revision_number: 0,
    ...more,
  };
}

const network = (subnets: DhcpSubnet[], ports: DhcpPort[], mtu = 1450): DhcpNetwork => ({
  id: NET,
  project_id: 'p',
  admin_state_up: true,
  mtu,
  subnets,
  non_local_subnets: [],
  ports,
});

test('names: Neutron’s qdhcp-<network> and ns-<port[:11]>, prefixed by the host namespace on simulated hosts', () => {
  assert.equal(namespaceName(NET), `qdhcp-${NET}`);
  assert.equal(namespaceName(NET, 'nl-lab-h1'), `nl-lab-h1-qdhcp-${NET}`);
  assert.equal(networkOfNamespace(`nl-lab-h1-qdhcp-${NET}`, 'nl-lab-h1'), NET);
  assert.equal(networkOfNamespace(`nl-lab-h2-qdhcp-${NET}`, 'nl-lab-h1'), undefined, 'another host’s');
  assert.equal(networkOfNamespace(`qdhcp-${NET}`), NET);
  assert.equal(interfaceName('d6fdd1f8-77f4-4838-bdf8-3e85efb44d9c'), 'ns-d6fdd1f8-77');
  assert.throws(() => namespaceName('x; rm -rf /'));
});

test('hosts, additional hosts and options of an IPv4 network', () => {
  const s4 = subnet(S4, '10.0.0.0/24', {
    dns_nameservers: ['8.8.8.8', '9.9.9.9'],
    host_routes: [{ destination: '192.168.50.0/24', nexthop: '10.0.0.7' }],
  });
  const vm = port([[S4, '10.0.0.5']]);
  const dhcp = port([[S4, '10.0.0.2']], { device_owner: 'network:dhcp' });
  const c = dnsmasqConfig(network([s4], [vm, dhcp]), 'ns-abc', FILES, SETTINGS);
  assert.equal(c.hosts, `${vm.mac_address},host-10-0-0-5.openstacklocal,10.0.0.5\n`, 'the DHCP port has no entry');
  assert.equal(c.addnHosts, '10.0.0.5\thost-10-0-0-5.openstacklocal host-10-0-0-5\n');
  assert.equal(
    c.opts,
    [
      `tag:subnet-${S4},option:dns-server,8.8.8.8,9.9.9.9`,
      `tag:subnet-${S4},option:classless-static-route,192.168.50.0/24,10.0.0.7,0.0.0.0/0,10.0.0.1`,
      `tag:subnet-${S4},249,192.168.50.0/24,10.0.0.7,0.0.0.0/0,10.0.0.1`,
      `tag:subnet-${S4},option:router,10.0.0.1`,
      '',
    ].join('\n'),
  );
  assert.deepEqual([...c.served.keys()], [vm.id]);
  assert.deepEqual(c.argv, [
    'dnsmasq',
    '--no-hosts',
    '--no-resolv',
    `--pid-file=${FILES.pidFile}`,
    `--dhcp-hostsfile=${FILES.hostsFile}`,
    `--addn-hosts=${FILES.addnHostsFile}`,
    `--dhcp-optsfile=${FILES.optsFile}`,
    `--dhcp-leasefile=${FILES.leaseFile}`,
    '--dhcp-match=set:ipxe,175',
    '--dhcp-userclass=set:ipxe6,iPXE',
    '--local-service',
    '--bind-dynamic',
    '--interface=ns-abc',
    `--dhcp-range=set:subnet-${S4},10.0.0.0,static,255.255.255.0,86400s`,
    '--dhcp-option-force=option:mtu,1450',
    '--dhcp-lease-max=256',
    '--conf-file=/dev/null',
    '--domain=openstacklocal',
  ]);
});

test('two IPv4 subnets: each has the other on-link; no gateway means an empty router option; 0.0.0.0 DNS means none', () => {
  const a = subnet(S4, '10.0.0.0/24');
  const b = subnet(S4B, '10.1.0.0/24', { gateway_ip: null, dns_nameservers: ['0.0.0.0'] });
  const c = dnsmasqConfig(
    network(
      [a, b],
      [
        port([
          [S4, '10.0.0.5'],
          [S4B, '10.1.0.5'],
        ]),
      ],
    ),
    'ns-abc',
    FILES,
    SETTINGS,
  );
  const lines = c.opts.trim().split('\n');
  assert.ok(lines.includes(`tag:subnet-${S4},option:classless-static-route,10.1.0.0/24,0.0.0.0,0.0.0.0/0,10.0.0.1`));
  assert.ok(lines.includes(`tag:subnet-${S4B},option:classless-static-route,10.0.0.0/24,0.0.0.0`));
  assert.ok(lines.includes(`tag:subnet-${S4B},option:router`));
  assert.ok(lines.includes(`tag:subnet-${S4B},option:dns-server`));
  assert.equal(c.hosts.trim().split('\n').length, 2, 'one entry per address');
});

test('a subnet behind a router gets the metadata route through its gateway; a subnet without DHCP gets no entry', () => {
  const a = subnet(S4, '10.0.0.0/24');
  const off = subnet(S4B, '10.1.0.0/24', { enable_dhcp: false });
  const router = port([[S4, '10.0.0.1']], { device_owner: 'network:router_interface' });
  const vm = port([
    [S4, '10.0.0.5'],
    [S4B, '10.1.0.5'],
  ]);
  const c = dnsmasqConfig(network([a, off], [router, vm]), 'ns-abc', FILES, SETTINGS);
  assert.match(c.opts, /classless-static-route,169\.254\.169\.254\/32,10\.0\.0\.1,0\.0\.0\.0\/0,10\.0\.0\.1/);
  assert.ok(c.hosts.includes('10.0.0.1'), 'router interfaces are served (DNS for traceroutes)');
  assert.ok(!c.hosts.includes('10.1.0.5'), 'no lease on a subnet without DHCP');
  assert.ok(c.addnHosts.includes('10.1.0.5\thost-10-1-0-5'), 'its name still resolves');
  assert.ok(!c.argv.some((a) => a.includes(S4B)), 'no range for it');
});

test('extra_dhcp_opts: per port tags and client ids, IPv6 options, a newline cut as Neutron cuts it, the rest refused', () => {
  const s4 = subnet(S4, '10.0.0.0/24');
  const opts = [
    { opt_name: 'bootfile-name', opt_value: 'pxelinux.0', ip_version: 4 as const },
    { opt_name: '150', opt_value: '10.0.0.9', ip_version: 4 as const },
    { opt_name: 'tag:ipxe,bootfile-name', opt_value: 'http://boot/x.ipxe', ip_version: 4 as const },
    { opt_name: 'tftp-server', opt_value: '10.0.0.9\n--dhcp-option=evil', ip_version: 4 as const },
    { opt_name: 'server-ip-address', opt_value: 'a\rb', ip_version: 4 as const },
    { opt_name: 'x,option:router', opt_value: '1.2.3.4', ip_version: 4 as const },
    { opt_name: 'dns-server', opt_value: '2001:db8::1', ip_version: 6 as const },
  ];
  const p = port([[S4, '10.0.0.5']], { extra_dhcp_opts: opts });
  const c = dnsmasqConfig(network([s4], [p]), 'ns-abc', FILES, SETTINGS);
  const tag = `tag:port-${p.id}`;
  assert.equal(c.hosts, `${p.mac_address},host-10-0-0-5.openstacklocal,10.0.0.5,set:port-${p.id}\n`);
  const lines = c.opts.trim().split('\n');
  assert.ok(lines.includes(`${tag},option:bootfile-name,pxelinux.0`));
  assert.ok(lines.includes(`${tag},150,10.0.0.9`));
  assert.ok(lines.includes(`${tag},tag:ipxe,option:bootfile-name,http://boot/x.ipxe`));
  assert.ok(lines.includes(`${tag},option:tftp-server,10.0.0.9`), 'what precedes the newline');
  assert.ok(!c.opts.includes('evil') && !c.opts.includes('a\rb') && !c.opts.includes('1.2.3.4'));
  assert.ok(!lines.some((l) => l.includes('option6')), 'an IPv6 option of a port without IPv6 is left out');
  assert.equal(c.problems.length, 2, c.problems.join('; '));
  const withId = port([[S4, '10.0.0.6']], { extra_dhcp_opts: [{ opt_name: 'client-id', opt_value: '01:aa', ip_version: 4 }] });
  const c2 = dnsmasqConfig(network([s4], [withId]), 'ns-abc', FILES, SETTINGS);
  assert.equal(c2.hosts, `${withId.mac_address},id:01:aa,host-10-0-0-6.openstacklocal,10.0.0.6\n`);
  assert.throws(() => formatOption(4, 'subnet-x', 'router', '10.0.0.1\nx'));
});

test('IPv6: stateful in brackets with the dhcpv6 tag, stateless options only, SLAAC nothing; ranges and RAs', () => {
  const stateful = subnet(S6, '2001:db8:1::/64', { ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful' });
  const s4 = subnet(S4, '10.0.0.0/24');
  const p = port([
    [S4, '10.0.0.5'],
    [S6, '2001:db8:1::5'],
  ]);
  const c = dnsmasqConfig(network([s4, stateful], [p]), 'ns-abc', FILES, SETTINGS);
  assert.equal(
    c.hosts,
    `${p.mac_address},host-10-0-0-5.openstacklocal,10.0.0.5\n${p.mac_address},tag:dhcpv6,host-2001-db8-1--5.openstacklocal,[2001:db8:1::5]\n`,
  );
  assert.ok(c.opts.includes(`tag:subnet-${S6},option6:domain-search,openstacklocal`));
  assert.ok(c.argv.includes(`--dhcp-range=set:subnet-${S6},2001:db8:1::,static,64,86400s`));
  assert.ok(c.argv.includes('--enable-ra') && c.argv.includes('--ra-param=ns-abc,30,0'), 'an isolated subnet with ipv6_ra_mode');
  // SLAAC: a range only to send RAs (A flag); no host entry, no options.
  const slaac = subnet(S6, '2001:db8:2::/64', { ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' });
  const c2 = dnsmasqConfig(network([slaac], [port([[S6, '2001:db8:2::f816:3eff:fe00:1']])]), 'ns-abc', FILES, SETTINGS);
  assert.equal(c2.hosts, '');
  assert.equal(c2.opts, '');
  assert.ok(c2.argv.includes(`--dhcp-range=set:subnet-${S6},2001:db8:2::,ra-only,64`));
  // Behind a router, its radvd advertises: dnsmasq does not.
  const gw = port([[S6, '2001:db8:2::1']], { device_owner: 'network:router_interface' });
  const c3 = dnsmasqConfig(network([slaac], [gw]), 'ns-abc', FILES, SETTINGS);
  assert.ok(!c3.argv.includes('--enable-ra'));
  assert.ok(!c3.argv.some((a) => a.startsWith('--dhcp-range')));
  // Stateless: options by the port's tag, RAs with the O flag.
  const stateless = subnet(S6, '2001:db8:3::/64', { ipv6_address_mode: 'dhcpv6-stateless', ipv6_ra_mode: 'dhcpv6-stateless' });
  assert.equal(rangeOf(stateless, 60, true)?.mode, 'ra-stateless');
  assert.equal(rangeOf(stateless, 60, false)?.mode, 'static');
  assert.equal(rangeOf(subnet(S6, '2001:db8:4::/64'), 60, false)?.mode, 'static', 'no modes: static, as Neutron');
  assert.equal(rangeOf(subnet(S6, '2001:db8::/56'), 60, false), undefined, 'shorter than /64: no range');
  const sp = port([[S6, '2001:db8:3::f816:3eff:fe00:9']], {
    extra_dhcp_opts: [{ opt_name: 'dns-server', opt_value: '[2001:db8::53]', ip_version: 6 }],
  });
  const c4 = dnsmasqConfig(network([stateless], [sp]), 'ns-abc', FILES, SETTINGS);
  assert.equal(c4.hosts, `${sp.mac_address},tag:dhcpv6,set:port-${sp.id}\n`);
  assert.ok(c4.opts.includes(`tag:port-${sp.id},option6:dns-server,[2001:db8::53]`));
});

test('lease max, lease time, DNS servers, MTU 0 and several DHCP servers', () => {
  const s4 = subnet(S4, '10.0.0.0/28');
  const d1 = port([[S4, '10.0.0.2']], { device_owner: 'network:dhcp' });
  const d2 = port([[S4, '10.0.0.3']], { device_owner: 'network:dhcp' });
  const settings = { ...SETTINGS, leaseDuration: -1, dnsServers: ['192.0.2.53'], dnsDomain: null, leaseMax: 10 };
  const c = dnsmasqConfig(network([s4], [d1, d2], 0), 'ns-abc', FILES, settings);
  assert.ok(c.argv.includes(`--dhcp-range=set:subnet-${S4},10.0.0.0,static,255.255.255.240,infinite`));
  assert.ok(c.argv.includes('--dhcp-lease-max=10'));
  assert.ok(c.argv.includes('--server=192.0.2.53'));
  assert.ok(!c.argv.some((a) => a.startsWith('--domain') || a.includes('option:mtu')));
  assert.ok(c.opts.includes(`tag:subnet-${S4},option:dns-server,10.0.0.2,10.0.0.3`), 'every DHCP server is a DNS server');
});

test('served fingerprints follow what dnsmasq serves a port', () => {
  const s4 = subnet(S4, '10.0.0.0/24');
  const p = port([[S4, '10.0.0.5']]);
  const before = dnsmasqConfig(network([s4], [p]), 'ns-abc', FILES, SETTINGS).served.get(p.id);
  const same = dnsmasqConfig(network([s4], [{ ...p, name: 'renamed' }]), 'ns-abc', FILES, SETTINGS).served.get(p.id);
  const moved = dnsmasqConfig(
    network([s4], [{ ...p, fixed_ips: [{ subnet_id: S4, ip_address: '10.0.0.6' }] }]),
    'ns-abc',
    FILES,
    SETTINGS,
  );
  assert.equal(before, same);
  assert.notEqual(before, moved.served.get(p.id));
});

test('initial leases: IPv4 entries never expire; IPv6 leases and the DUID are kept from the old file', () => {
  const s4 = subnet(S4, '10.0.0.0/24');
  const s6 = subnet(S6, '2001:db8:1::/64', { ipv6_address_mode: 'dhcpv6-stateful' });
  const p = port([
    [S4, '10.0.0.5'],
    [S6, '2001:db8:1::5'],
  ]);
  const old = 'duid 00:01:00:01:aa\n1700000000 1234 2001:db8:1::5 host-x 00:03\n1700000000 99 2001:db8:1::99 gone 00:03\n';
  assert.equal(
    initialLeases(network([s4, s6], [p]), old),
    `duid 00:01:00:01:aa\n0 ${p.mac_address} 10.0.0.5 * *\n1700000000 1234 2001:db8:1::5 host-x 00:03\n`,
  );
  assert.equal(initialLeases(network([s4], []), undefined), '');
});

test('dnsmasq’s command line takes checked values only', () => {
  const base = { ...FILES, interface: 'ns-abc', ranges: [], mtu: 1500, leaseMax: 10 };
  assert.throws(() => dnsmasqArgv({ ...base, pidFile: '/tmp/a b' }));
  assert.throws(() => dnsmasqArgv({ ...base, pidFile: 'relative/pid' }));
  assert.throws(() => dnsmasqArgv({ ...base, hostsFile: '/tmp/../etc/x' }));
  assert.throws(() => dnsmasqArgv({ ...base, interface: 'eth0 --x' }));
  assert.throws(() => dnsmasqArgv({ ...base, domain: 'a b' }));
  assert.throws(() => dnsmasqArgv({ ...base, dnsServers: ['8.8.8.8,9.9.9.9'] }));
  assert.throws(() =>
    dnsmasqArgv({ ...base, ranges: [{ tag: 'x,y', network: '10.0.0.0', prefixlen: 24, mode: 'static', leaseSeconds: 1 }] }),
  );
  assert.equal(prefixToMask(0), '0.0.0.0');
  assert.equal(prefixToMask(20), '255.255.240.0');
  assert.equal(prefixToMask(32), '255.255.255.255');
});
