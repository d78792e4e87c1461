import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NeutronError } from '../../src/common/errors.js';
import { pyStr, validators } from '../../src/validation/validators.js';

const v = (name: string, value: unknown, arg?: unknown) => {
  const fn = validators[name];
  assert.ok(fn, `no validator ${name}`);
  return fn(value, arg);
};

test('pyStr prints like Python %s', () => {
  assert.equal(pyStr(null), 'None');
  assert.equal(pyStr(true), 'True');
  assert.equal(pyStr(1.5), '1.5');
  assert.equal(pyStr({ a: [1, 'x', null, false] }), "{'a': [1, 'x', None, False]}");
  assert.equal(pyStr(["it's"]), `["it's"]`);
  assert.equal(pyStr(['a\nb']), "['a\\nb']");
});

test('type:string counts code points like Python len', () => {
  assert.equal(v('type:string', 'abc', 3), null);
  assert.equal(v('type:string', 'abcd', 3), "'abcd' exceeds maximum length of 3");
  assert.equal(v('type:string', '😀'.repeat(255), 255), null); // 510 UTF-16 units
  assert.equal(v('type:string', 'é'.repeat(256), 255), `'${'é'.repeat(256)}' exceeds maximum length of 255`);
  assert.equal(v('type:string', 5), "'5' is not a valid string");
  assert.equal(v('type:string', null), "'None' is not a valid string");
  assert.equal(v('type:string_or_none', null), null);
});

test('type:not_empty_string and oneline', () => {
  assert.equal(v('type:not_empty_string', '  \t'), "'  \t' Blank strings are not permitted");
  assert.equal(v('type:not_empty_string', 'x'), null);
  assert.equal(v('type:oneline_not_empty_string', 'a\nb', 64), "Multi-line string is not allowed: 'a\nb'");
  assert.equal(v('type:oneline_not_empty_string', 'ab\n', 64), null);
});

test('type:name_string', () => {
  assert.equal(v('type:name_string', 'net 1', 255), null);
  assert.equal(v('type:name_string', '', 255), null);
  assert.equal(v('type:name_string', ' net', 255), "' net' is not a valid string");
  assert.equal(v('type:name_string', 'net ', 255), "'net ' is not a valid string");
  assert.equal(v('type:name_string', 'a\u0000b', 255), "'a\u0000b' is not a valid string");
  assert.equal(v('type:name_string', 'réseau', 255), null);
  assert.equal(v('type:name_string', 'net\n', 255), null); // Python '$' matches before a final newline
});

test('type:uuid', () => {
  assert.equal(v('type:uuid', '2b1d3b4e-6d5f-4c2a-9a8b-1c2d3e4f5a6b'), null);
  assert.equal(v('type:uuid', '2B1D3B4E6D5F4C2A9A8B1C2D3E4F5A6B'), null);
  assert.equal(v('type:uuid', '{2b1d3b4e-6d5f-4c2a-9a8b-1c2d3e4f5a6b}'), null);
  assert.equal(v('type:uuid', 'invalid'), "'invalid' is not a valid UUID");
  assert.equal(v('type:uuid', 12), "'12' is not a valid UUID");
  assert.equal(v('type:uuid_or_none', null), null);
  const id = '2b1d3b4e-6d5f-4c2a-9a8b-1c2d3e4f5a6b';
  assert.equal(v('type:uuid_list', [id, id]), `Duplicate items in the list: '${id}'`);
  assert.equal(v('type:uuid_list', 'x'), "'x' is not a list");
  assert.equal(v('type:subnetpool_id_or_none', 'prefix_delegation'), null);
  assert.equal(v('type:subnetpool_id_or_none', 'pd'), "'pd' is not a valid UUID");
});

test('type:mac_address', () => {
  assert.equal(v('type:mac_address', 'fa:16:3e:00:00:01'), null);
  assert.equal(v('type:mac_address', 'FA-16-3E-00-00-01'), null);
  assert.equal(v('type:mac_address', '00:00:00:00:00:00'), "'00:00:00:00:00:00' is not a valid MAC address");
  assert.equal(v('type:mac_address', 'ff:ff:ff:ff:ff:ff'), "'ff:ff:ff:ff:ff:ff' is not a valid MAC address");
  assert.equal(v('type:mac_address', 'fa:16:3e:00:00:01 '), "'fa:16:3e:00:00:01 ' is not a valid MAC address");
  assert.equal(v('type:mac_address_or_none', null), null);
});

test('type:ip_address', () => {
  assert.equal(v('type:ip_address', '1.1.1.1'), null);
  assert.equal(v('type:ip_address', '1111.1.1.1'), "'1111.1.1.1' is not a valid IP address");
  assert.equal(v('type:ip_address', '1.1.1'), "'1.1.1' is not a valid IP address");
  assert.equal(v('type:ip_address', '1.1.1.01'), "'1.1.1.01' is not an accepted IP address, '1.1.1.1' is recommended");
  assert.equal(v('type:ip_address', '1.1.1.011'), "'1.1.1.011' is not an accepted IP address, '1.1.1.11' is recommended");
  assert.equal(v('type:ip_address', 'fe80:0:0:0:0:0:0:0001'), null);
  assert.equal(v('type:ip_address', '1.1.1.1\t'), "'1.1.1.1\t' is not a valid IP address");
  assert.equal(v('type:ip_address', 'fe80::1%eth0'), "'fe80::1%eth0' is not a valid IP address");
  assert.equal(v('type:ip_address', '1'.repeat(59)), `'${'1'.repeat(59)}' is not a valid IP address`);
  assert.equal(v('type:ip_address_or_none', null), null);
  assert.equal(v('type:ip_or_subnet_or_none', '10.0.0.0/8'), null);
  assert.equal(v('type:ip_or_subnet_or_none', 'x'), "'x' is neither a valid IP address, nor is it a valid IP subnet");
});

test('type:subnet', () => {
  for (const ok of ['10.0.2.0/24', '192.168.1.7/24', 'fe80::/24', 'fe80:0:0:0:0:0:0:0/128', '2001:0db8::1:0:0:1/128']) {
    assert.equal(v('type:subnet', ok), null, ok);
  }
  // A bare address: Zed's neutron-lib recommends its host prefix (asked of a real Neutron Zed).
  assert.equal(v('type:subnet', '10.0.2.0'), "'10.0.2.0' isn't a recognized IP subnet cidr, '10.0.2.0/32' is recommended");
  assert.equal(v('type:subnet', 'fe80::'), "'fe80::' isn't a recognized IP subnet cidr, 'fe80::/128' is recommended");
  for (const bad of ['10/24', 'invalid', '10.0.0.0/255.255.255.0', '10.0.0.0/024', '010.0.0.0/24', '10.0.0.0/24 ']) {
    assert.equal(v('type:subnet', bad), `'${bad}' is not a valid IP subnet`, bad);
  }
  assert.equal(v('type:subnet_or_none', null), null);
  assert.equal(
    v('type:subnet_list', ['10.1.0.0/24', '10.2.0.0/24', '10.1.0.0/24']),
    "Duplicate items in the list: '10.1.0.0/24'",
  );
  assert.equal(
    v('type:subnet_list', ['10.1.0.0/24', '10.2.0.0']),
    "'10.2.0.0' isn't a recognized IP subnet cidr, '10.2.0.0/32' is recommended",
  );
});

test('type:fixed_ips', () => {
  const sid = '00000000-ffff-ffff-ffff-000000000000';
  assert.equal(v('type:fixed_ips', [{ subnet_id: sid, ip_address: '1.1.1.1' }, { subnet_id: sid }]), null);
  assert.equal(v('type:fixed_ips', [{ subnet_id: sid, ip_address: '1111.1.1.1' }]), "'1111.1.1.1' is not a valid IP address");
  assert.equal(v('type:fixed_ips', [{ subnet_id: 'invalid', ip_address: '1.1.1.1' }]), "'invalid' is not a valid UUID");
  assert.equal(v('type:fixed_ips', null), "Invalid data format for fixed IP: 'None'");
  assert.equal(v('type:fixed_ips', '1.1.1.1'), "Invalid data format for fixed IP: '1.1.1.1'");
  assert.equal(v('type:fixed_ips', ['1.1.1.1']), "Invalid data format for fixed IP: '1.1.1.1'");
  assert.equal(
    v('type:fixed_ips', [{ ip_address: '1.1.1.1' }, { ip_address: '1.1.1.1', subnet_id: sid }]),
    "Duplicate IP address '1.1.1.1'",
  );
});

test('type:nameservers', () => {
  assert.equal(v('type:nameservers', ['8.8.8.8', '2001:4860:4860::8888']), null);
  assert.equal(v('type:nameservers', ['8.8.8.8', '8.8.8.8']), "Duplicate nameserver '8.8.8.8'");
  assert.equal(
    v('type:nameservers', ['dns.example']),
    "'dns.example' is not a valid nameserver. 'dns.example' is not a valid IP address",
  );
  assert.equal(v('type:nameservers', 5), "Invalid data format for nameserver: '5'");
});

test('type:hostroutes', () => {
  const r = { destination: '10.1.0.0/16', nexthop: '10.0.0.1' };
  assert.equal(v('type:hostroutes', [r]), null);
  assert.equal(
    v('type:hostroutes', [r, { nexthop: '10.0.0.1', destination: '10.1.0.0/16' }]),
    "Duplicate hostroute '{'nexthop': '10.0.0.1', 'destination': '10.1.0.0/16'}'",
  );
  assert.equal(v('type:hostroutes', [{ destination: '10.1.0.1/16', nexthop: '10.0.0.1' }]), "'10.1.0.1/16' is not a valid CIDR");
  assert.equal(
    v('type:hostroutes', [{ destination: '127.0.0.0/8', nexthop: '10.0.0.1' }]),
    "'127.0.0.0/8' is not a routable CIDR",
  );
  assert.equal(v('type:hostroutes', [{ destination: '10.1.0.0/16', nexthop: 'x' }]), "'x' is not a valid IP address");
  assert.equal(
    v('type:hostroutes', [{ destination: '10.1.0.0/16' }]),
    "Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} Provided keys: {'destination'}",
  );
  assert.equal(v('type:hostroutes', ['x']), "Invalid input. 'x' must be a dictionary with keys: ['destination', 'nexthop']");
  assert.equal(v('type:hostroutes', {}), "Invalid data format for hostroute: '{}'");
});

test('type:ip_pools', () => {
  assert.equal(v('type:ip_pools', [{ end: '10.0.0.254', start: '10.0.0.2' }]), null);
  assert.equal(v('type:ip_pools', null), "Invalid data format for IP pool: 'None'");
  assert.notEqual(v('type:ip_pools', [{ start: '10.0.0.2', end: '10.0.0.254', forza: 'juve' }]), null);
  assert.equal(v('type:ip_pools', [{ start: '10.0.0.2\r', end: '10.0.0.254' }]), "'10.0.0.2\r' is not a valid IP address");
});

test('type:values, type:range, type:non_negative, type:integer, type:boolean', () => {
  assert.equal(v('type:values', 4, [4, 6]), null);
  assert.equal(v('type:values', 5, [4, 6]), '5 is not in valid_values');
  assert.equal(v('type:values', true, [4, 6]), 'True is not in valid_values');
  assert.equal(v('type:range', '5', [10, 20]), "'5' is too small - must be at least '10'");
  assert.equal(v('type:range', 25, [10, 20]), "'25' is too large - must be no larger than '20'");
  assert.equal(v('type:range', 99, [10, null]), null);
  assert.equal(v('type:range', 'x', [10, 20]), "'x' is not an integer");
  assert.equal(v('type:non_negative', -1), "'-1' should be non-negative");
  assert.equal(v('type:non_negative', '3'), null);
  assert.equal(v('type:integer', '5'), null);
  assert.equal(v('type:integer', 5.5), "'5.5' is not an integer");
  assert.equal(v('type:integer', '5.0'), "'5.0' is not an integer");
  assert.equal(v('type:integer', true), "'True' is not an integer:boolean");
  assert.equal(v('type:boolean', 'TRUE'), null);
  assert.equal(v('type:boolean', 0), null);
  assert.equal(v('type:boolean', 'maybe'), "'maybe' is not a valid boolean value");
});

test('type:port_range', () => {
  assert.equal(v('type:port_range', '80:90'), null);
  assert.equal(v('type:port_range', 80), null);
  assert.equal(v('type:port_range', null), null);
  assert.equal(v('type:port_range', '90:80'), 'First port in a port range must be lower than the second port');
  assert.equal(v('type:port_range', '1:2:3'), 'Port range must be two integers separated by a colon');
  assert.equal(v('type:port_range', ':80'), 'Port range must be two integers separated by a colon');
  assert.equal(v('type:port_range', 'http'), 'Invalid port: http');
  assert.equal(v('type:port_range', '70000'), 'Invalid port: 70000');
  assert.equal(v('type:port_range', '5', [10, 20]), 'Invalid port: 5, the port must be in the range [10, 20]');
});

test('type:dict family and list_of_unique_strings', () => {
  assert.equal(v('type:dict', 'x'), "'x' is not a dictionary");
  assert.equal(v('type:dict', {}), null);
  assert.equal(v('type:dict_or_none', null), null);
  assert.equal(v('type:dict_or_nodata', ''), null);
  assert.equal(v('type:dict_or_nodata', [1]), "'[1]' is not a dictionary");
  assert.equal(v('type:dict', { a: 1, b: 2 }, { a: { required: true } }), 'Unexpected keys supplied: b');
  assert.equal(v('type:list_of_unique_strings', ['a', 'a']), "Duplicate items in the list: 'a'");
  assert.equal(v('type:list_of_unique_strings', ['ab', 'abc'], 2), "'abc' exceeds maximum length of 2");
});

test('type:extra_dhcp_opts: raises InvalidInput like neutron-lib', () => {
  const opts = [
    { opt_name: 'bootfile-name', opt_value: 'pxelinux.0' },
    { opt_name: 'router', opt_value: null },
    { opt_name: 'tftp-server', opt_value: '10.0.0.5', ip_version: '4' },
  ];
  assert.equal(v('type:extra_dhcp_opts', opts), null);
  assert.equal(opts[2]?.ip_version, 4); // converted in place
  assert.equal(v('type:extra_dhcp_opts', null), null);
  const raises = (value: unknown, message: string) =>
    assert.throws(
      () => v('type:extra_dhcp_opts', value),
      (e: unknown) => {
        assert.ok(e instanceof NeutronError);
        assert.equal(e.type, 'InvalidInput');
        assert.equal(e.status, 400);
        assert.equal(e.message, message);
        return true;
      },
    );
  // a null value is allowed for any option (it deletes the option on update); blank is not
  assert.equal(v('type:extra_dhcp_opts', [{ opt_name: 'tftp-server', opt_value: null }]), null);
  raises(
    [{ opt_name: 'tftp-server', opt_value: ' ' }],
    "Invalid input for operation: No valid key specs matched for: {'opt_name': 'tftp-server', 'opt_value': ' '}.",
  );
  raises(
    [{ opt_name: 'tftp-server', opt_value: 'a\nb' }],
    "Invalid input for operation: No valid key specs matched for: {'opt_name': 'tftp-server', 'opt_value': 'a\\nb'}.",
  );
  assert.equal(v('type:extra_dhcp_opts', [{ opt_name: 'router', opt_value: '' }]), null);
  raises(
    [{ opt_name: 'x', opt_value: 'y', bogus: 1 }],
    "Invalid input for operation: No valid key specs matched for: {'opt_name': 'x', 'opt_value': 'y', 'bogus': 1}.",
  );
  raises(
    [{ opt_name: 'a'.repeat(65), opt_value: 'y' }],
    `Invalid input for operation: No valid key specs matched for: {'opt_name': '${'a'.repeat(65)}', 'opt_value': 'y'}.`,
  );
  raises([{ opt_name: 'x', opt_value: 'y', ip_version: 'four' }], "Invalid input for operation: 'four' is not an integer.");
  raises('x', "Invalid input for operation: 'x' is not a list.");
  raises(
    [
      { opt_name: 'x', opt_value: 'y' },
      { opt_name: 'x', opt_value: 'y' },
    ],
    "Invalid input for operation: Duplicate items in the list: '{'opt_name': 'x', 'opt_value': 'y'}'.",
  );
});

test('type:allowed_address_pairs', () => {
  const ok = [{ ip_address: '10.0.0.5' }, { ip_address: '10.0.0.0/24', mac_address: 'fa:16:3e:00:00:01' }];
  assert.equal(v('type:allowed_address_pairs', ok), null);
  assert.equal(v('type:allowed_address_pairs', ['x']), "'x' is not a dictionary");
  const raises = (value: unknown, type: string, message: string, arg?: unknown) =>
    assert.throws(
      () => v('type:allowed_address_pairs', value, arg),
      (e: unknown) => {
        assert.ok(e instanceof NeutronError);
        assert.equal(e.type, type);
        assert.equal(e.message, message);
        return true;
      },
    );
  raises({}, 'HTTPBadRequest', 'Allowed address pairs must be a list.');
  raises(
    [{ ip_address: '10.0.0.1' }, { ip_address: '10.0.0.2' }],
    'AllowedAddressPairExhausted',
    'The number of allowed address pair exceeds the maximum 1.',
    1,
  );
  raises([{ mac_address: 'fa:16:3e:00:00:01' }], 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
  raises(
    [{ ip_address: '10.0.0.1' }, { ip_address: '10.0.0.1' }],
    'DuplicateAddressPairInRequest',
    'Request contains duplicate address pair: mac_address None ip_address 10.0.0.1.',
  );
  raises([{ ip_address: '10.0.0.1', foo: 1 }], 'HTTPBadRequest', "Unrecognized attribute(s) 'foo'");
  raises([{ ip_address: '10.0.0.300' }], 'HTTPBadRequest', "'10.0.0.300' is not a valid IP address");
  raises([{ ip_address: '224.0.0.5' }], 'HTTPBadRequest', 'IP 224.0.0.5 is a multicast address, which is not supported.');
  raises(
    [{ ip_address: '224.0.0.0/24' }],
    'HTTPBadRequest',
    'Subnet 224.0.0.0/24 overlaps with multicast range 224.0.0.0/4, which is not supported.',
  );
  raises(
    [{ ip_address: '10.0.0.1', mac_address: '01:00:5e:00:00:01' }],
    'HTTPBadRequest',
    'MAC address 01:00:5e:00:00:01 is a multicast address, which is not supported.',
  );
  assert.equal(v('type:allowed_address_pairs', [{ ip_address: '0.0.0.0/0' }]), null);
});
