// The multi-provider `segments` list (neutron-lib's convert_and_validate_segments): each item a
// dict of provider:network_type, provider:physical_network and provider:segmentation_id, the
// absent ones unset, a falsy segmentation id meaning none.
import { badRequest, invalidInput } from '../common/errors.js';
import { UNSET } from '../resources/types.js';
import { isDict, pyInt, pyStr, validateString } from './validators.js';

const KEYS: Record<string, number> = { 'provider:network_type': 32, 'provider:physical_network': 64 };
const SEGMENTATION_ID = 'provider:segmentation_id';

export function convertNetworkSegments(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw invalidInput(`'${pyStr(v)}' is not a list`);
  return v.map((item) => {
    if (!isDict(item)) throw invalidInput(`'${pyStr(item)}' is not a dictionary`);
    const unknown = Object.keys(item).filter((k) => !(k in KEYS) && k !== SEGMENTATION_ID);
    if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
    const out: Record<string, unknown> = {};
    for (const [key, maxLen] of Object.entries(KEYS)) {
      const value = item[key];
      if (value === undefined || value === null) {
        out[key] = UNSET;
        continue;
      }
      const reason = validateString(value, maxLen);
      if (reason) throw badRequest(`Invalid input for segments. Reason: ${reason}.`);
      out[key] = value;
    }
    const id = item[SEGMENTATION_ID];
    if (id === undefined || id === null || id === 0 || id === '' || id === false) out[SEGMENTATION_ID] = UNSET;
    else {
      const n = pyInt(id);
      if (n === null) throw invalidInput(`'${pyStr(id)}' is not an integer`);
      out[SEGMENTATION_ID] = n;
    }
    return out;
  });
}

export const segmentConverters = { convert_network_segments: convertNetworkSegments };
