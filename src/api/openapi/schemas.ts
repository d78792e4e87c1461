// JSON Schemas (OpenAPI 3.0 flavour) of attribute values, read from the same definitions that
// validation runs on: an attribute's validator and converter name what it accepts. A validator or
// converter this table does not know yet gives an open schema that still names it, so a new
// resource is documented (loosely) without an edit here.
import type { AttributeDef } from '../../resources/types.js';

export type Schema = Record<string, unknown>;

const UUID: Schema = { type: 'string', format: 'uuid' };
const IP: Schema = { type: 'string', description: 'an IPv4 or IPv6 address' };
const CIDR: Schema = { type: 'string', description: 'a CIDR, e.g. 10.0.0.0/24' };
const MAC: Schema = { type: 'string', pattern: '^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$' };
const str = (maxLength?: unknown): Schema => (typeof maxLength === 'number' ? { type: 'string', maxLength } : { type: 'string' });
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
});

/** The schema of values a validator accepts. */
const VALIDATORS: Record<string, (arg: unknown) => Schema> = {
  'type:string': str,
  'type:string_or_none': (a) => nullable(str(a)),
  'type:not_empty_string': (a) => ({ ...str(a), minLength: 1 }),
  'type:not_empty_string_or_none': (a) => nullable({ ...str(a), minLength: 1 }),
  'type:oneline_not_empty_string': (a) => ({ ...str(a), minLength: 1 }),
  'type:name_string': str,
  'type:name_not_default': (a) => ({ ...str(a), not: { enum: ['default'] } }),
  'type:boolean': () => ({ type: 'boolean' }),
  'type:integer': () => ({ type: 'integer' }),
  'type:non_negative': () => ({ type: 'integer', minimum: 0 }),
  'type:range': (a) => {
    const [min, max] = (Array.isArray(a) ? a : []) as [number?, number?];
    return { type: 'integer', ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) };
  },
  'type:values': (a) => ({ enum: Array.isArray(a) ? a : [a] }),
  'type:uuid': () => UUID,
  'type:uuid_or_none': () => nullable(UUID),
  'type:uuid_list': () => ({ type: 'array', items: UUID, uniqueItems: true }),
  'type:subnetpool_id_or_none': () => nullable({ type: 'string', description: 'a subnet pool UUID, or prefix_delegation' }),
  'type:ip_address': () => IP,
  'type:ip_address_or_none': () => nullable(IP),
  'type:mac_address': () => MAC,
  'type:mac_address_or_none': () => nullable(MAC),
  'type:subnet': () => CIDR,
  'type:subnet_list': () => ({ type: 'array', items: CIDR, uniqueItems: true }),
  'type:list_of_unique_strings': (a) => ({ type: 'array', items: str(a), uniqueItems: true }),
  'type:nameservers': () => ({ type: 'array', items: IP, uniqueItems: true }),
  'type:dict': () => ({ type: 'object' }),
  'type:dict_or_none': () => nullable({ type: 'object' }),
  'type:fixed_ips': () => ({
    type: 'array',
    items: { type: 'object', properties: { ip_address: IP, subnet_id: UUID }, additionalProperties: true },
  }),
  'type:ip_pools': () => ({ type: 'array', items: obj({ start: IP, end: IP }, ['start', 'end']) }),
  'type:hostroutes': () => ({ type: 'array', items: obj({ destination: CIDR, nexthop: IP }, ['destination', 'nexthop']) }),
  'type:allowed_address_pairs': () => ({ type: 'array', items: obj({ ip_address: IP, mac_address: MAC }, ['ip_address']) }),
  'type:extra_dhcp_opts': () => ({
    type: 'array',
    items: obj({ opt_name: str(64), opt_value: nullable(str(255)), ip_version: { type: 'integer', enum: [4, 6] } }, [
      'opt_name',
      'opt_value',
    ]),
  }),
};

/** The schema of values a converter takes, for attributes without a validator. */
const CONVERTERS: Record<string, Schema> = {
  convert_to_boolean: { type: 'boolean' },
  convert_to_int: { type: 'integer' },
  convert_to_int_if_not_none: nullable({ type: 'integer' }),
  convert_sg_protocol: nullable({
    description: 'a protocol name (tcp, udp, icmp …) or number 0–255',
    oneOf: [{ type: 'string' }, { type: 'integer', minimum: 0, maximum: 255 }],
  }),
  convert_validate_port_value: nullable({ type: 'integer', minimum: 0, maximum: 65535 }),
  convert_ethertype_to_case_insensitive: { type: 'string', enum: ['IPv4', 'IPv6'] },
  convert_ip_prefix_to_cidr: nullable(CIDR),
  convert_network_segments: {
    type: 'array',
    items: obj({
      'provider:network_type': str(32),
      'provider:physical_network': nullable(str(64)),
      'provider:segmentation_id': nullable({ type: 'integer' }),
    }),
  },
};

/** What an attribute's value may be in a request body. */
export function attributeSchema(name: string, a: AttributeDef): Schema {
  const v = a.validate;
  let s: Schema | undefined;
  if (v) s = VALIDATORS[v.type]?.(v.arg);
  if (!s && a.convertTo) s = CONVERTERS[a.convertTo];
  if (!s) s = v || a.convertTo ? { description: 'any JSON value' } : {};
  if (a.convertTo === 'convert_none_to_empty_list' && !s.nullable) s = nullable(s);
  const notes = [v ? `validator ${v.type}` : '', a.convertTo ? `converter ${a.convertTo}` : ''].filter(Boolean).join(', ');
  const extra: Schema = {};
  if (v) extra['x-neutron-validate'] = v.type;
  if (a.convertTo) extra['x-neutron-convert'] = a.convertTo;
  if (a.adminOnly || a.adminOnlyWrite) extra['x-neutron-admin-only'] = true;
  return { ...s, ...extra, ...(notes && !s.description ? { description: `${name}: ${notes}` } : {}) };
}

/** The schema of a filter's values in a query string (strings, read by the attribute's converter). */
export function filterSchema(a: AttributeDef): Schema {
  const conv = a.convertFilterTo ?? a.convertTo;
  if (conv === 'convert_to_boolean') return { type: 'boolean' };
  if (conv === 'convert_to_int' || conv === 'convert_validate_port_value') return { type: 'integer' };
  return { type: 'string' };
}

export const NEUTRON_ERROR: Schema = {
  type: 'object',
  required: ['NeutronError'],
  properties: {
    NeutronError: {
      type: 'object',
      required: ['type', 'message', 'detail'],
      properties: { type: { type: 'string' }, message: { type: 'string' }, detail: { type: 'string' } },
    },
  },
};
