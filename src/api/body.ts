// Turns a request body into a validated dict, as neutron's prepare_request_body does:
// unknown attributes, read-only attributes, required attributes, conversion, validation,
// then the admin-only attribute policy.
import { badRequest } from '../common/errors.js';
import type { Context } from '../plugins/context.js';
import type { Dict } from '../plugins/service.js';
import type { AttributeDef, ResourceDef } from '../resources/types.js';
import { UNSET } from '../resources/types.js';
import { converters } from '../validation/converters.js';
import { validators } from '../validation/validators.js';

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Extracts the member dicts of a create body: single or bulk. */
export function createItems(def: ResourceDef, body: unknown): { items: Dict[]; bulk: boolean } {
  if (body === undefined || body === null || body === '') throw badRequest('Resource body required');
  if (!isDict(body)) throw badRequest('Body contains invalid data');
  if (def.allowBulk && def.collection in body) {
    const list = body[def.collection];
    if (!Array.isArray(list) || list.length === 0 || !list.every(isDict)) {
      throw badRequest('Bulk operation expected a non-empty list of objects');
    }
    return { items: list.map((it) => (def.member in it && isDict(it[def.member]) ? (it[def.member] as Dict) : it)), bulk: true };
  }
  const item = body[def.member];
  if (item === undefined) throw badRequest(`Unable to find '${def.member}' in request body`);
  if (!isDict(item)) throw badRequest(`Object '${def.member}' contains invalid data`);
  return { items: [item], bulk: false };
}

export function updateItem(def: ResourceDef, body: unknown): Dict {
  if (body === undefined || body === null || body === '') throw badRequest('Resource body required');
  if (!isDict(body)) throw badRequest('Body contains invalid data');
  const item = body[def.member];
  if (item === undefined) throw badRequest(`Unable to find '${def.member}' in request body`);
  if (!isDict(item)) throw badRequest(`Object '${def.member}' contains invalid data`);
  return item;
}

/** Converts then validates one attribute value; throws 400 in Neutron's words. */
export function checkValue(name: string, a: AttributeDef, value: unknown): unknown {
  let v = value;
  // A failed conversion throws ConvertError, which is already Neutron's InvalidInput.
  if (a.convertTo) v = converters[a.convertTo](v);
  if (a.validate) {
    const fn = validators[a.validate.type];
    if (!fn) throw new Error(`no validator ${a.validate.type}`);
    const reason = fn(v, a.validate.arg);
    if (reason !== null) throw badRequest(`Invalid input for ${name}. Reason: ${reason}.`);
  }
  return v;
}

function checkKeys(def: ResourceDef, item: Dict, method: 'POST' | 'PUT'): void {
  const unknown = Object.keys(item).filter((k) => !(k in def.attributes));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  for (const k of Object.keys(item)) {
    const a = def.attributes[k];
    if (method === 'POST' && !a.allowPost) throw badRequest(`Attribute '${k}' not allowed in POST`);
    if (method === 'PUT' && !a.allowPut) throw badRequest(`Cannot update read-only attribute ${k}`);
  }
}

/** Resolves tenant_id/project_id of a create against the caller. */
function resolveProject(ctx: Context, item: Dict, out: Dict): void {
  const t = item.tenant_id;
  const p = item.project_id;
  if (t !== undefined && p !== undefined && t !== p) throw badRequest("'project_id' and 'tenant_id' do not match");
  const given = (p ?? t) as string | undefined;
  if (given !== undefined && !ctx.isAdmin && given !== ctx.projectId) {
    throw badRequest(
      "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
    );
  }
  const project = given ?? ctx.projectId;
  if (!project) throw badRequest('Running without keystone AuthN requires that tenant_id is specified');
  out.project_id = project;
  out.tenant_id = project;
}

export function prepareCreate(def: ResourceDef, ctx: Context, item: Dict): Dict {
  checkKeys(def, item, 'POST');
  const out: Dict = {};
  for (const [name, a] of Object.entries(def.attributes)) {
    if (!a.allowPost || name === 'tenant_id' || name === 'project_id') continue;
    if (name in item) out[name] = checkValue(name, a, item[name]);
    else if ('default' in a) out[name] = a.default;
    else throw badRequest(`Failed to parse request. Required attribute '${name}' not specified`);
  }
  if ('project_id' in def.attributes) {
    for (const k of ['tenant_id', 'project_id']) if (k in item) checkValue(k, def.attributes[k], item[k]);
    resolveProject(ctx, item, out);
  }
  return out;
}

export function prepareUpdate(def: ResourceDef, item: Dict): Dict {
  checkKeys(def, item, 'PUT');
  const out: Dict = {};
  for (const [k, v] of Object.entries(item)) out[k] = checkValue(k, def.attributes[k], v);
  return out;
}

export const isUnset = (v: unknown): boolean => v === UNSET;
