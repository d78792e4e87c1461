// neutron-lib's attribute validators: same names, same verdicts, same reason texts. A validator
// returns null when the value is valid, else the reason that the API layer wraps as
// "Invalid input for <attr>. Reason: <reason>.". The few that raise in neutron-lib (allowed
// address pairs, key-spec lists, extra DHCP options) throw the matching NeutronError instead.
// This file holds the dict and key-spec validators (they look validators up by name) and the
// registry; python.ts, basic-validators.ts and address-validators.ts hold the rest.
import { invalidInput, NeutronError } from '../common/errors.js';
import {
  validateAllowedAddressPairs,
  validateFixedIps,
  validateHostroutes,
  validateIpAddress,
  validateIpOrSubnetOrNone,
  validateIpPools,
  validateMacAddress,
  validateNameservers,
  validateRouteCidr,
  validateSubnet,
} from './address-validators.js';
import {
  orNone,
  q,
  type Validator,
  validateBoolean,
  validateInteger,
  validateListOfItems,
  validateNameNotDefault,
  validateNameString,
  validateNonNegative,
  validateNotEmptyNameString,
  validateNotEmptyString,
  validateOnelineNotEmptyString,
  validatePortRange,
  validateRange,
  validateRegex,
  validateString,
  validateSubnetpoolId,
  validateUuid,
  validateValues,
  verifyDictKeys,
} from './basic-validators.js';
import { isDict, pyBoolFromString, pyInt, pyStr, pyTruthy } from './python.js';

export * from './address-validators.js';
export * from './basic-validators.js';
export * from './python.js';

// --- dicts and key specs -------------------------------------------------------------

/** A neutron-lib key spec: { required?, convert_to?, 'type:<name>': arg }. */
export interface KeySpec {
  required?: boolean;
  convert_to?: (v: unknown) => unknown;
  [validator: `type:${string}`]: unknown;
}

/** Validates a dict; with key specs, converts matching values in place (as neutron-lib does). */
export function validateDict(data: unknown, keySpecs?: unknown): string | null {
  if (!isDict(data)) return `${q(data)} is not a dictionary`;
  if (!isDict(keySpecs) || Object.keys(keySpecs).length === 0) return null;
  const specs = keySpecs as Record<string, KeySpec>;
  const required = Object.keys(specs).filter((k) => specs[k]?.required);
  if (required.length) {
    const msg = verifyDictKeys(required, data, false);
    if (msg) return msg;
  }
  const unexpected = Object.keys(data).filter((k) => !(k in specs));
  if (unexpected.length) return `Unexpected keys supplied: ${unexpected.join(', ')}`;
  for (const [key, spec] of Object.entries(specs)) {
    if (!(key in data)) continue;
    if (spec.convert_to) data[key] = spec.convert_to(data[key]);
    const rule = Object.keys(spec).find((k) => k.startsWith('type:'));
    if (!rule) continue;
    const fn = validators[rule];
    if (!fn) return `Validator '${rule}' does not exist`;
    const msg = fn(data[key], spec[rule as `type:${string}`]);
    if (msg) return msg;
  }
  return null;
}

/** Each dict of the list must match one of the key specs; failures raise InvalidInput. */
export function validateAnyKeySpecsOrNone(data: unknown, keySpecs?: unknown): string | null {
  if (data === null || data === undefined) return null;
  const specs = (Array.isArray(keySpecs) ? keySpecs : []) as unknown[];
  const matchOne: Validator = (item) => {
    if (specs.some((spec) => validateDict(item, spec) === null)) return null;
    throw invalidInput(`No valid key specs matched for: ${pyStr(item)}`);
  };
  const msg = validateListOfItems(matchOne, data);
  if (msg) throw invalidInput(msg);
  return null;
}

/** convert_to_int raising InvalidInput, for key specs. */
function convertToIntOrRaise(v: unknown): number {
  const n = pyInt(v);
  if (n === null) throw invalidInput(`${q(v)} is not an integer`);
  return n;
}

/** neutron-lib's EXTRA_DHCP_OPT_KEY_SPECS: 'router' and 'classless-static-route' may be blank. */
export const EXTRA_DHCP_OPT_KEY_SPECS: Record<string, KeySpec>[] = [
  {
    opt_name: { 'type:values': ['router', 'classless-static-route'], required: true },
    opt_value: { 'type:string_or_none': 255, required: true },
    ip_version: { convert_to: convertToIntOrRaise, 'type:values': [4, 6], required: false },
  },
  {
    opt_name: { 'type:oneline_not_empty_string': 64, required: true },
    opt_value: { 'type:oneline_not_empty_string_or_none': 255, required: true },
    ip_version: { convert_to: convertToIntOrRaise, 'type:values': [4, 6], required: false },
  },
];

export const validateExtraDhcpOpts: Validator = (data) => validateAnyKeySpecsOrNone(data, EXTRA_DHCP_OPT_KEY_SPECS);

// --- the registry ------------------------------------------------------------------

// --- routers (l3, ext-gw-mode, router_availability_zone, flavors) ----------------------

/** convert_to_boolean inside a key spec: neutron-lib raises InvalidInput. */
function specToBoolean(v: unknown): boolean {
  const b = pyBoolFromString(v);
  if (b === null) throw invalidInput(`'${pyStr(v)}' cannot be converted to boolean`);
  return b;
}

/** external_gateway_info: l3's dict_or_nodata key specs with ext-gw-mode's enable_snat. */
const EXTERNAL_GW_INFO_SPECS: Record<string, KeySpec> = {
  network_id: { 'type:uuid': null, required: true },
  external_fixed_ips: { 'type:fixed_ips': null, required: false },
  enable_snat: { 'type:boolean': null, required: false, convert_to: specToBoolean },
};

export const validateExternalGwInfo: Validator = (data) => (pyTruthy(data) ? validateDict(data, EXTERNAL_GW_INFO_SPECS) : null);

/** availability_zone_hints: unique strings whose JSON form fits 255 characters. */
export const validateAvailabilityZoneHints: Validator = (data) => {
  const msg = validateListOfItems(validateString, data);
  if (msg) return msg;
  if (JSON.stringify(data).replace(/","/g, '", "').length > 255) throw invalidInput('Too many availability_zone_hints specified');
  return null;
};

/** The service plugin types this server loads (neutron-lib's plugin constants). */
export const SERVICE_PLUGIN_TYPES = ['CORE', 'L3_ROUTER_NAT', 'FLAVORS'];

export const validateServicePluginType: Validator = (data) => {
  if (typeof data === 'string' && SERVICE_PLUGIN_TYPES.includes(data)) return null;
  throw new NeutronError('InvalidServiceType', 400, `Invalid service type ${pyStr(data)}.`);
};

export const validators: Record<string, Validator> = {
  'type:name_not_default': validateNameNotDefault,
  'type:dict': validateDict,
  'type:dict_or_none': orNone(validateDict),
  'type:dict_or_empty': (d, a) => (isDict(d) && Object.keys(d).length === 0 ? null : validateDict(d, a)),
  'type:dict_or_nodata': (d, a) => (pyTruthy(d) ? validateDict(d, a) : null),
  'type:external_gw_info': validateExternalGwInfo,
  'type:availability_zone_hint_list': validateAvailabilityZoneHints,
  'type:service_plugin_type': validateServicePluginType,
  'type:fixed_ips': validateFixedIps,
  'type:hostroutes': validateHostroutes,
  'type:ip_address': validateIpAddress,
  'type:ip_address_or_none': orNone(validateIpAddress),
  'type:ip_or_subnet_or_none': validateIpOrSubnetOrNone,
  'type:ip_pools': validateIpPools,
  'type:list_of_regex_or_none': (d, a) => (d === null || d === undefined ? null : validateListOfItems(validateRegex, d, a)),
  'type:mac_address': validateMacAddress,
  'type:mac_address_or_none': orNone(validateMacAddress),
  'type:nameservers': validateNameservers,
  'type:non_negative': validateNonNegative,
  'type:port_range': validatePortRange,
  'type:range': validateRange,
  'type:range_or_none': orNone(validateRange),
  'type:regex': validateRegex,
  'type:regex_or_none': orNone(validateRegex),
  'type:string': validateString,
  'type:string_or_none': orNone(validateString),
  'type:not_empty_string': validateNotEmptyString,
  'type:not_empty_string_or_none': orNone(validateNotEmptyString),
  'type:oneline_not_empty_string': validateOnelineNotEmptyString,
  'type:oneline_not_empty_string_or_none': orNone(validateOnelineNotEmptyString),
  'type:name_string': validateNameString,
  'type:name_string_or_none': orNone(validateNameString),
  'type:not_empty_name_string': validateNotEmptyNameString,
  'type:subnet': validateSubnet,
  'type:subnet_or_none': orNone(validateSubnet),
  'type:subnet_list': (d) => validateListOfItems(validateSubnet, d),
  'type:list_of_subnets_or_none': (d) => (d === null || d === undefined ? null : validateListOfItems(validateSubnet, d)),
  'type:route_cidr': validateRouteCidr,
  'type:subnetpool_id': validateSubnetpoolId,
  'type:subnetpool_id_or_none': orNone(validateSubnetpoolId),
  'type:uuid': validateUuid,
  'type:uuid_or_none': orNone(validateUuid),
  'type:uuid_list': (d) => validateListOfItems(validateUuid, d),
  'type:uuid_list_non_empty': (d) =>
    validateListOfItems(validateUuid, d) ?? ((d as unknown[]).length === 0 ? 'List should not be empty' : null),
  'type:values': validateValues,
  'type:boolean': validateBoolean,
  'type:integer': validateInteger,
  'type:list_of_unique_strings': (d, a) => validateListOfItems(validateString, d, a),
  'type:list_of_any_key_specs_or_none': validateAnyKeySpecsOrNone,
  'type:extra_dhcp_opts': validateExtraDhcpOpts,
  'type:allowed_address_pairs': validateAllowedAddressPairs,
};
