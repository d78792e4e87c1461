// /v2.0/network-ip-availabilities (extension network-ip-availability): admin only, as Neutron's
// policy get_network_ip_availability. As Neutron's policy hook does for GET, a list shows a
// non-admin nothing and a show answers 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, httpNotFound } from '../../common/errors.js';
import type { Context } from '../../plugins/context.js';
import type { AvailabilityFilters, IpAvailabilityService } from '../../plugins/ip-availability/index.js';
import { parseFields, type RawQuery, values } from '../listing.js';

const FILTERS = new Set(['network_id', 'network_name', 'tenant_id', 'project_id', 'ip_version']);
const RESERVED = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);

export function parseAvailabilityQuery(q: RawQuery): AvailabilityFilters {
  const invalid = Object.keys(q).filter((k) => !FILTERS.has(k) && !RESERVED.has(k));
  if (invalid.length) throw badRequest(`[${invalid.map((k) => `'${k}'`).join(', ')}] is invalid attribute for filtering`);
  const f: AvailabilityFilters = {};
  const some = (k: string) => values(q, k).filter((v) => v !== '');
  if (some('network_id').length) f.network_id = some('network_id');
  if (some('network_name').length) f.network_name = some('network_name');
  const projects = [...some('project_id'), ...some('tenant_id')];
  if (projects.length) f.project_id = projects;
  if (some('ip_version').length) {
    // A version that is not a number matches nothing, as the SQL comparison would.
    // and so does one no integer column holds.
    f.ip_version = some('ip_version').map((v) => (/^\s*\d+\s*$/.test(v) && Number(v) <= 2 ** 31 - 1 ? Number(v) : -1));
  }
  return f;
}

/** JSON with bigints written as exact integers (JSON.stringify refuses bigints, and a Number
 * would round 2^64 - 2). */
export function jsonWithBigints(body: unknown): string {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `\u0000big:${v.toString()}` : v));
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

const pick = (obj: object, fields: string[]) =>
  fields.length ? Object.fromEntries(Object.entries(obj).filter(([k]) => fields.includes(k))) : obj;

export function registerIpAvailability(
  app: FastifyInstance,
  service: IpAvailabilityService,
  context: (req: FastifyRequest) => Promise<Context>,
): void {
  const base = '/v2.0/network-ip-availabilities';
  const send = (reply: FastifyReply, body: unknown) => reply.type('application/json').send(jsonWithBigints(body));

  const list = { type: 'object', properties: { network_ip_availabilities: { type: 'array', items: { type: 'object' } } } };
  const filters = Object.fromEntries([...FILTERS, 'fields'].map((k) => [k, { type: 'string' }]));
  app.get(
    base,
    { config: { openapi: { summary: 'IP usage of every network (admin)', query: filters, response: list } } },
    async (req, reply) => {
      const ctx = await context(req);
      const q = req.query as RawQuery;
      const filters = parseAvailabilityQuery(q);
      const fields = parseFields(q);
      const items = ctx.isAdmin ? await service.list(filters) : [];
      return send(reply, { network_ip_availabilities: items.map((i) => pick(i, fields)) });
    },
  );

  const one = { type: 'object', properties: { network_ip_availability: { type: 'object' } } };
  const show = {
    config: { openapi: { summary: "A network's IP usage (admin)", query: { fields: { type: 'string' } }, response: one } },
  };
  app.get<{ Params: { id: string } }>(`${base}/:id`, show, async (req, reply) => {
    const ctx = await context(req);
    const item = await service.get(req.params.id);
    if (!ctx.isAdmin) throw httpNotFound();
    return send(reply, { network_ip_availability: pick(item, parseFields(req.query as RawQuery)) });
  });
}
