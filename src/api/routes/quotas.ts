// /v2.0/quotas (extensions quotas, quota_details, quota-check-limit), as Neutron's
// QuotaSetsController serves it: admins list, set and reset limits; anyone reads their own
// project's limits, defaults and usage.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, NeutronError, policyNotAuthorized } from '../../common/errors.js';
import type { Context } from '../../plugins/context.js';
import { type Limits, MAX_LIMIT, type QuotaService, UNLIMITED } from '../../plugins/quotas/index.js';
import type { AttributeDef } from '../../resources/types.js';
import { checkValue } from '../body.js';

type IdParams = { id: string };

const LIMIT_ATTR: AttributeDef = {
  allowPost: false,
  allowPut: true,
  isVisible: true,
  convertTo: 'convert_to_int',
  validate: { type: 'type:range', arg: [UNLIMITED, MAX_LIMIT] },
};
const FLAG_ATTR: AttributeDef = { allowPost: false, allowPut: true, isVisible: false, convertTo: 'convert_to_boolean' };

const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{"quota": {...}}` of a PUT → the limits to set, and whether to check them against usage. */
export function parseQuotaUpdate(quotas: QuotaService, body: unknown): { limits: Limits; checkLimit: boolean } {
  if (body === undefined || body === null || body === '') throw badRequest('Resource body required');
  if (!isDict(body)) throw badRequest('Body contains invalid data');
  if (!('quota' in body)) throw badRequest("Unable to find 'quota' in request body");
  const item = body.quota;
  if (!isDict(item)) throw badRequest('Body contains invalid data');
  const rest = { ...item };
  const force = 'force' in rest ? checkValue('force', FLAG_ATTR, rest.force) : false;
  const checkLimit = 'check_limit' in rest ? checkValue('check_limit', FLAG_ATTR, rest.check_limit) : false;
  delete rest.force;
  delete rest.check_limit;
  const unknown = Object.keys(rest).filter((k) => !quotas.isResource(k));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const limits: Limits = {};
  for (const [k, v] of Object.entries(rest)) limits[k] = checkValue(k, LIMIT_ATTR, v) as number;
  return { limits, checkLimit: checkLimit === true && force !== true };
}

export function registerQuotas(
  app: FastifyInstance,
  quotas: QuotaService,
  context: (req: FastifyRequest) => Promise<Context>,
): void {
  const base = '/v2.0/quotas';
  const requireAdmin = (ctx: Context, rule: string) => {
    if (!ctx.isAdmin) throw policyNotAuthorized(rule);
  };
  /** Reading another project's quotas needs the get_quota rule (admin). */
  const mayRead = (ctx: Context, projectId: string) => {
    if (projectId !== ctx.projectId) requireAdmin(ctx, 'get_quota');
  };

  const limitsSchema = { type: 'object', additionalProperties: { type: 'integer', minimum: UNLIMITED, maximum: MAX_LIMIT } };
  const quota = { type: 'object', properties: { quota: limitsSchema } };
  const doc = (summary: string, more: object = {}) => ({ config: { openapi: { summary, response: quota, ...more } } });

  app.get(base, doc('List the limits of every project that has its own (admin)'), async (req) => {
    const ctx = await context(req);
    requireAdmin(ctx, 'get_quota');
    return { quotas: await quotas.listAll() };
  });

  app.post(base, doc('Not supported (501)', { body: null, status: 501 }), async (req) => {
    await context(req);
    throw new NeutronError('HTTPNotImplemented', 501, 'POST requests are not supported on this resource.');
  });

  // "Who am I" for clients: the project of the request.
  for (const key of ['project', 'tenant'] as const) {
    app.get(`${base}/${key}`, doc(`The caller's ${key} id`), async (req) => {
      const ctx = await context(req);
      if (!ctx.projectId) throw new NeutronError('QuotaMissingTenant', 400, 'Tenant-id was missing from quota request.');
      return { [key]: { [`${key}_id`]: ctx.projectId } };
    });
  }

  app.get<{ Params: IdParams }>(`${base}/:id`, doc("A project's limits"), async (req) => {
    const ctx = await context(req);
    mayRead(ctx, req.params.id);
    return { quota: await quotas.getLimits(req.params.id) };
  });

  app.get<{ Params: IdParams }>(`${base}/:id/default`, doc('The default limits'), async (req) => {
    const ctx = await context(req);
    mayRead(ctx, req.params.id);
    return { quota: { ...quotas.defaults } };
  });

  app.get<{ Params: IdParams }>(`${base}/:id/details`, doc("A project's limits, usage and reservations"), async (req) => {
    const ctx = await context(req);
    if (req.params.id !== ctx.projectId && !ctx.isAdmin) {
      throw new NeutronError(
        'AdminRequired',
        403,
        'User does not have admin privileges: Only admin is authorized to access quotas for another project.',
      );
    }
    return { quota: await quotas.getDetails(req.params.id) };
  });

  const update = {
    type: 'object',
    required: ['quota'],
    properties: {
      quota: {
        type: 'object',
        properties: { force: { type: 'boolean' }, check_limit: { type: 'boolean' } },
        additionalProperties: { type: 'integer', minimum: UNLIMITED, maximum: MAX_LIMIT },
      },
    },
  };
  app.put<{ Params: IdParams }>(`${base}/:id`, doc("Set a project's limits (admin)", { body: update }), async (req) => {
    const ctx = await context(req);
    requireAdmin(ctx, 'update_quota');
    const { limits, checkLimit } = parseQuotaUpdate(quotas, req.body);
    return { quota: await quotas.setLimits(req.params.id, limits, checkLimit) };
  });

  app.delete<{ Params: IdParams }>(`${base}/:id`, doc("Reset a project's limits to the defaults (admin)"), async (req, reply) => {
    const ctx = await context(req);
    requireAdmin(ctx, 'delete_quota');
    await quotas.resetLimits(req.params.id);
    reply.code(204).send();
  });
}
