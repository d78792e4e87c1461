// Request bodies as neutron-server reads them: JSON whatever the Content-Type says (Neutron Zed
// takes text/plain, form-encoded, XML-labelled and unlabelled bodies alike), strict UTF-8, and a
// nesting depth that Python's json module could parse. Past that depth Neutron fails with a
// RecursionError (a 500); here it is a 400, and nothing deeper reaches the validators.
import { NeutronError } from '../common/errors.js';

/** Python's default recursion limit: Neutron Zed parses 900 levels and fails (500) from about 950. */
export const MAX_JSON_DEPTH = 1000;

const INVALID = 'Body contains invalid data';
/** webob's words for a request it cannot decode, which Neutron answers to a body that is not UTF-8. */
const MALFORMED = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether the JSON text opens more than `max` arrays/objects at once (strings skipped). */
export function deeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The body's value, or undefined for an empty body; throws Neutron's 400s. */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new NeutronError('HTTPBadRequest', 400, MALFORMED);
  }
  text = text.trim();
  if (text === '') return undefined;
  if (deeperThan(text, MAX_JSON_DEPTH)) {
    throw new NeutronError('HTTPBadRequest', 400, INVALID, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new NeutronError('HTTPBadRequest', 400, INVALID);
  }
}
