// The OpenAPI 3 document of the API as this server serves it, built from what is served (every
// route Fastify registered, src/api/methods.ts) and the resource definitions (the registry that
// validation reads): a resource the generic controller serves is described from its attributes,
// any other route by the `openapi` fragment of its route config, or, lacking one, generically (its
// path parameters, a JSON body, Neutron's errors). Nothing is written by hand per resource.
import type { Registry } from '../../resources/registry.js';
import type { ResourceDef } from '../../resources/types.js';
import { attributeSchema, filterSchema, NEUTRON_ERROR, type Schema } from './schemas.js';

/** What a route outside the generic controller says about itself (route config `openapi`). */
export interface OperationDoc {
  summary: string;
  description?: string;
  /** Query parameters, by name. */
  query?: Record<string, Schema>;
  /** The JSON body's schema (POST/PUT); null: no body. */
  body?: Schema | null;
  /** The success answer's status and schema. */
  status?: number;
  response?: Schema;
}

export interface DocumentedRoute {
  method: string;
  url: string;
  doc?: OperationDoc;
}

type Operation = Record<string, unknown>;

const json = (schema: Schema) => ({ content: { 'application/json': { schema } } });
const errorResponse = (description: string) => ({ description, ...json({ $ref: '#/components/schemas/NeutronError' }) });
const ERRORS = {
  '400': errorResponse('invalid input'),
  '401': errorResponse('no valid token (auth_strategy = keystone)'),
  '403': errorResponse('not allowed by policy'),
  '404': errorResponse('not found, or not visible to the caller'),
  '409': errorResponse('conflict with what is stored'),
  '413': errorResponse('request body larger than [oslo_middleware] max_request_body_size'),
};

const MEMBER_ACTIONS = new Set(['GET', 'PUT', 'DELETE']);

/** `/v2.0/networks/:id` → `/v2.0/networks/{id}` and its path parameter names. */
function openapiPath(url: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = url
    .split('/')
    .map((seg) => {
      if (!seg.startsWith(':')) return seg;
      params.push(seg.slice(1));
      return `{${seg.slice(1)}}`;
    })
    .join('/');
  return { path, params };
}

const operationId = (method: string, path: string) =>
  `${method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;

function memberSchema(def: ResourceDef): Schema {
  const properties: Record<string, Schema> = {};
  for (const [name, a] of Object.entries(def.attributes)) {
    if (a.isVisible) properties[name] = { ...attributeSchema(name, a), ...(a.allowPut || a.allowPost ? {} : { readOnly: true }) };
  }
  return { type: 'object', properties };
}

/** A create or update body: the member's writable attributes, as the validators read them. */
function bodySchema(def: ResourceDef, method: 'POST' | 'PUT'): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [name, a] of Object.entries(def.attributes)) {
    if (method === 'POST' ? !a.allowPost : !a.allowPut) continue;
    properties[name] = attributeSchema(name, a);
    if (method === 'POST' && !('default' in a) && name !== 'tenant_id' && name !== 'project_id') required.push(name);
  }
  const item: Schema = { type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) };
  const single: Schema = {
    type: 'object',
    required: [def.member],
    properties: { [def.member]: item },
    additionalProperties: false,
  };
  if (method === 'PUT' || !def.allowBulk) return single;
  const bulk: Schema = {
    type: 'object',
    required: [def.collection],
    properties: { [def.collection]: { type: 'array', minItems: 1, items: { oneOf: [item, single] } } },
    additionalProperties: false,
  };
  return { oneOf: [single, bulk] };
}

function listParameters(def: ResourceDef): Operation[] {
  const q = (name: string, schema: Schema, description?: string): Operation => ({
    name,
    in: 'query',
    required: false,
    ...(description ? { description } : {}),
    schema: { type: 'array', items: schema },
    style: 'form',
    explode: true,
  });
  const out = [q('fields', { type: 'string' }, 'attributes to return')];
  for (const [name, a] of Object.entries(def.attributes)) if (a.isFilter) out.push(q(name, filterSchema(a), `filter on ${name}`));
  if (def.taggable) for (const t of ['tags', 'tags-any', 'not-tags', 'not-tags-any']) out.push(q(t, { type: 'string' }));
  if (def.allowSorting) {
    const keys = Object.entries(def.attributes)
      .filter(([, a]) => a.isSort)
      .map(([k]) => k);
    out.push(q('sort_key', { type: 'string', enum: keys }), q('sort_dir', { type: 'string', enum: ['asc', 'desc'] }));
  }
  if (def.allowPagination) {
    out.push(
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
      { name: 'marker', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'page_reverse', in: 'query', required: false, schema: { type: 'boolean' } },
    );
  }
  return out;
}

/** The generic controller's operation for `method url`, when `url` is one of `def`'s routes. */
function resourceOperation(def: ResourceDef, method: string, rest: string): Operation | undefined {
  const ref = { $ref: `#/components/schemas/${def.member}` };
  const one = (status: string, description: string) => ({
    [status]: { description, ...json({ type: 'object', properties: { [def.member]: ref } }) },
  });
  const tags = [def.collection];
  if (rest === '') {
    if (method === 'GET') {
      const links = {
        type: 'array',
        items: { type: 'object', properties: { rel: { type: 'string' }, href: { type: 'string' } } },
      };
      return {
        tags,
        summary: `List ${def.collection}`,
        parameters: listParameters(def),
        responses: {
          '200': {
            description: 'the visible ones',
            ...json({
              type: 'object',
              properties: { [def.collection]: { type: 'array', items: ref }, [`${def.collection}_links`]: links },
            }),
          },
        },
      };
    }
    if (method === 'POST') {
      return {
        tags,
        summary: `Create a ${def.member}${def.allowBulk ? ` (or several: {"${def.collection}": [...]})` : ''}`,
        requestBody: { required: true, ...json(bodySchema(def, 'POST')) },
        responses: one('201', 'created'),
      };
    }
    return undefined;
  }
  if (rest === '/:id' && MEMBER_ACTIONS.has(method)) {
    if (method === 'GET') {
      return {
        tags,
        summary: `Show a ${def.member}`,
        parameters: [{ name: 'fields', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } } }],
        responses: one('200', 'the object'),
      };
    }
    if (method === 'PUT') {
      return {
        tags,
        summary: `Update a ${def.member}`,
        requestBody: { required: true, ...json(bodySchema(def, 'PUT')) },
        responses: one('200', 'the updated object'),
      };
    }
    return { tags, summary: `Delete a ${def.member}`, responses: { '204': { description: 'deleted' } } };
  }
  const action = /^\/:id\/([^/:]+)$/.exec(rest)?.[1];
  if (action && action !== 'tags' && method === 'PUT' && def.memberActions?.includes(action)) {
    return {
      tags,
      summary: `${action} on a ${def.member}`,
      'x-neutron-action': action,
      requestBody: { required: true, ...json({ type: 'object' }) },
      responses: { '200': { description: 'the action’s answer', ...json({ type: 'object' }) } },
    };
  }
  if (def.taggable && (rest === '/:id/tags' || rest === '/:id/tags/:tag')) {
    const list = json({
      type: 'object',
      required: ['tags'],
      properties: { tags: { type: 'array', items: { type: 'string', maxLength: 255 } } },
    });
    const all = rest === '/:id/tags';
    const summaries: Record<string, string> = all
      ? { GET: 'List its tags', PUT: 'Replace its tags', POST: 'Add tags', DELETE: 'Remove all its tags' }
      : { GET: 'Check a tag', PUT: 'Add a tag', DELETE: 'Remove a tag' };
    if (!summaries[method]) return undefined;
    const status = all ? (method === 'DELETE' ? '204' : '200') : method === 'PUT' ? '201' : '204';
    return {
      tags,
      summary: `${summaries[method]} (${def.member})`,
      ...(all && (method === 'PUT' || method === 'POST') ? { requestBody: { required: true, ...list } } : {}),
      responses: { [status]: { description: 'done', ...(status === '200' ? list : {}) } },
    };
  }
  return undefined;
}

function fromDoc(route: DocumentedRoute): Operation {
  const d = route.doc;
  const hasBody = route.method === 'POST' || route.method === 'PUT';
  const status = String(d?.status ?? (route.method === 'POST' ? 201 : route.method === 'DELETE' ? 204 : 200));
  return {
    summary: d?.summary ?? `${route.method} ${route.url}`,
    ...(d?.description ? { description: d.description } : {}),
    ...(d?.query
      ? { parameters: Object.entries(d.query).map(([name, schema]) => ({ name, in: 'query', required: false, schema })) }
      : {}),
    ...(hasBody && d?.body !== null ? { requestBody: { required: true, ...json(d?.body ?? { type: 'object' }) } } : {}),
    responses: { [status]: { description: 'success', ...(status === '204' ? {} : json(d?.response ?? { type: 'object' })) } },
  };
}

export function buildDocument(registry: Registry, routes: DocumentedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, Operation>> = {};
  const byPrefix = [...registry.resources].sort((a, b) => b.path.length - a.path.length);
  for (const route of routes) {
    const { path, params } = openapiPath(route.url);
    let op: Operation | undefined;
    for (const def of byPrefix) {
      const base = `/v2.0/${def.path}`;
      if (route.url !== base && !route.url.startsWith(`${base}/`)) continue;
      op = resourceOperation(def, route.method, route.url.slice(base.length));
      if (op) break;
    }
    op ??= fromDoc(route);
    const parameters = [
      ...params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...((op.parameters as Operation[] | undefined) ?? []),
    ];
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: operationId(route.method, path),
      ...op,
      ...(parameters.length ? { parameters } : {}),
      responses: { ...(op.responses as object), ...ERRORS },
    };
  }
  const schemas: Record<string, Schema> = { NeutronError: NEUTRON_ERROR };
  for (const def of registry.resources) schemas[def.member] = memberSchema(def);
  return {
    openapi: '3.0.3',
    info: {
      title: 'Neutrino: the OpenStack Networking API v2.0',
      version,
      description:
        'Derived from the resource definitions and the routes this server serves. Extensions enabled: ' +
        registry.extensions.map((e) => e.alias).join(', '),
    },
    servers: [{ url: '/' }],
    components: {
      schemas,
      securitySchemes: {
        keystone: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'auth_strategy = keystone' },
        noauthProject: { type: 'apiKey', in: 'header', name: 'X-Project-Id', description: 'auth_strategy = noauth' },
      },
    },
    security: [{ keystone: [] }, { noauthProject: [] }, {}],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
  };
}
