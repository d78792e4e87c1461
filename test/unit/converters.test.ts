import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NeutronError } from '../../src/common/errors.js';
import { ConvertError, converters } from '../../src/validation/converters.js';

const c = (name: string, value: unknown) => {
  const fn = converters[name];
  assert.ok(fn, `no converter ${name}`);
  return fn(value);
};

const fails = (name: string, value: unknown, reason: string) =>
  assert.throws(
    () => c(name, value),
    (e: unknown) => {
      assert.ok(e instanceof ConvertError);
      assert.ok(e instanceof NeutronError);
      assert.equal(e.type, 'InvalidInput');
      assert.equal(e.status, 400);
      assert.equal(e.reason, reason);
      assert.equal(e.message, `Invalid input for operation: ${reason}.`);
      return true;
    },
  );

test('convert_to_boolean', () => {
  for (const t of [true, 'true', 'True', 'TRUE', '1', 1, 'yes', 'on', ' t '])
    assert.equal(c('convert_to_boolean', t), true, String(t));
  for (const f of [false, 'false', 'False', '0', 0, 'no', 'off', 'f']) assert.equal(c('convert_to_boolean', f), false, String(f));
  fails('convert_to_boolean', 'maybe', "'maybe' cannot be converted to boolean");
  fails('convert_to_boolean', 2, "'2' cannot be converted to boolean");
  fails('convert_to_boolean', null, "'None' cannot be converted to boolean");
  assert.equal(c('convert_to_boolean_if_not_none', null), null);
});

test('convert_to_int', () => {
  assert.equal(c('convert_to_int', '42'), 42);
  assert.equal(c('convert_to_int', ' -7 '), -7);
  assert.equal(c('convert_to_int', 4.9), 4);
  assert.equal(c('convert_to_int', true), 1);
  fails('convert_to_int', '4.0', "'4.0' is not an integer");
  fails('convert_to_int', 'abc', "'abc' is not an integer");
  fails('convert_to_int', null, "'None' is not an integer");
  fails('convert_to_int', [1], "'[1]' is not an integer");
  assert.equal(c('convert_to_int_if_not_none', null), null);
});

test('convert_to_positive_float_or_none', () => {
  assert.equal(c('convert_to_positive_float_or_none', '1.5'), 1.5);
  assert.equal(c('convert_to_positive_float_or_none', null), null);
  fails('convert_to_positive_float_or_none', '-1', "'-1.0' must be a non negative decimal");
  fails('convert_to_positive_float_or_none', 'x', "'x' must be a non negative decimal");
});

test('kvp converters', () => {
  assert.deepEqual(c('convert_kvp_str_to_list', 'a = b=c'), ['a', 'b=c']);
  assert.deepEqual(c('convert_kvp_str_to_list', 'a='), ['a', '']);
  fails('convert_kvp_str_to_list', '=b', "'=b' is not of the form <key>=[value]");
  fails('convert_kvp_str_to_list', 'ab', "'ab' is not of the form <key>=[value]");
  assert.deepEqual(
    c('convert_kvp_list_to_dict', ['ip_address=10.0.0.5', 'ip_address=10.0.0.6', 'subnet_id=x', 'ip_address=10.0.0.5']),
    {
      ip_address: ['10.0.0.5', '10.0.0.6'],
      subnet_id: ['x'],
    },
  );
  assert.deepEqual(c('convert_kvp_list_to_dict', ['True']), {});
});

test('none/list converters', () => {
  assert.deepEqual(c('convert_none_to_empty_list', null), []);
  assert.deepEqual(c('convert_none_to_empty_list', ['a']), ['a']);
  assert.deepEqual(c('convert_none_to_empty_dict', null), {});
  assert.equal(c('convert_none_to_empty_string', null), '');
  assert.deepEqual(c('convert_to_list', null), []);
  assert.deepEqual(c('convert_to_list', 'abc'), ['abc']);
  assert.deepEqual(c('convert_to_list', [1, 2]), [1, 2]);
});

test('convert_ip_to_canonical_format', () => {
  assert.equal(c('convert_ip_to_canonical_format', '2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(c('convert_ip_to_canonical_format', '::FFFF:1.2.3.4'), '::ffff:1.2.3.4');
  assert.equal(c('convert_ip_to_canonical_format', '10.0.0.1'), '10.0.0.1');
  assert.equal(c('convert_ip_to_canonical_format', '010.0.0.1'), '010.0.0.1'); // left for the validator
  assert.equal(c('convert_ip_to_canonical_format', 'junk'), 'junk');
  assert.equal(c('convert_ip_to_canonical_format', null), null);
});

test('convert_cidr_to_canonical_format', () => {
  assert.equal(c('convert_cidr_to_canonical_format', '2001:DB8:0:0::5/64'), '2001:db8::5/64');
  assert.equal(c('convert_cidr_to_canonical_format', '10.0.0.5/24'), '10.0.0.5/24'); // host bits kept
  assert.equal(c('convert_cidr_to_canonical_format', '10.0.0.0/255.255.255.0'), '10.0.0.0/24');
  assert.equal(c('convert_cidr_to_canonical_format', '10.0.0.1'), '10.0.0.1/32');
  fails('convert_cidr_to_canonical_format', '10.0.0.0/33', '10.0.0.0/33 is not in a CIDR format');
  fails('convert_cidr_to_canonical_format', 'junk', 'junk is not in a CIDR format');
  fails('convert_cidr_to_canonical_format', null, 'None is not in a CIDR format');
});

test('convert_allocation_pools_to_canonical_format', () => {
  assert.deepEqual(c('convert_allocation_pools_to_canonical_format', [{ start: '2001:DB8::2', end: '2001:db8:0::9' }]), [
    { start: '2001:db8::2', end: '2001:db8::9' },
  ]);
  assert.deepEqual(c('convert_allocation_pools_to_canonical_format', null), []);
  fails('convert_allocation_pools_to_canonical_format', ['x'], 'Invalid data format for allocation pools');
  fails('convert_allocation_pools_to_canonical_format', 5, 'Invalid data format for allocation pools');
});

test('string and protocol converters', () => {
  assert.equal(c('convert_string_to_case_insensitive', 'IPv4'), 'ipv4');
  fails('convert_string_to_case_insensitive', 4, 'Input value 4 must be string type');
  assert.equal(c('convert_to_string', 5), '5');
  assert.equal(c('convert_uppercase_ip', 'ipv6'), 'IPv6');
  assert.equal(c('convert_to_protocol', 'TCP'), 'TCP');
  assert.equal(c('convert_to_protocol', '6'), '6');
  fails(
    'convert_to_protocol',
    '256',
    "IP protocol '256' is not supported. Only protocol names and their integer representation (0 to 255) are supported",
  );
});

test('MAC converters', () => {
  assert.equal(c('convert_to_sanitized_mac_address', 'FA-16-3E-00-00-0A'), 'fa:16:3e:00:00:0a');
  assert.equal(c('convert_to_sanitized_mac_address', 'fa16.3e00.000a'), 'fa:16:3e:00:00:0a');
  assert.equal(c('convert_to_sanitized_mac_address', 'junk'), 'junk');
  assert.equal(c('convert_to_sanitized_mac_address', 10), '00:00:00:00:00:0a');
  assert.match(String(c('convert_to_mac_if_none', null)), /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.equal(c('convert_to_mac_if_none', 'aa:bb:cc:dd:ee:ff'), 'aa:bb:cc:dd:ee:ff');
});
