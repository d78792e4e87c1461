// The HTTP server: Fastify with Neutron's error shapes, JSON parsing that never 500s on bad
// input, `.json` URL suffixes, and the generic controller mounted for every resource.
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { badRequest, errors, httpNotFound, NeutronError } from '../common/errors.js';
import type { Context } from '../plugins/context.js';
import type { ResourceService } from '../plugins/service.js';
import type { Registry } from '../resources/registry.js';
import type { Authenticator } from './auth.js';
import type { ListSettings } from './listing.js';
import type { Policy } from './policy/enforcer.js';
import { registerResource } from './routes/resources.js';
import { registerRoot } from './routes/root.js';

export interface ApiOptions {
  policy: Policy;
  registry: Registry;
  services: Map<string, ResourceService>;
  auth: Authenticator;
  settings: ListSettings & { allowBulk: boolean };
  logger?: boolean | object;
  /** Routes outside the generic controller (quotas, network-ip-availabilities …). */
  routes?: Array<(app: FastifyInstance, context: (req: FastifyRequest) => Promise<Context>) => void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    neutrinoContext?: Context;
  }
}

/** Strips a `.json` format suffix from the path (Neutron accepts `/v2.0/networks.json`). */
function rewriteUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.endsWith('.json')) return url;
  return path.slice(0, -5) + (q < 0 ? '' : url.slice(q));
}

export function buildApi(opts: ApiOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    // One access-log line per request (below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    rewriteUrl: (req) => rewriteUrl(req.url ?? '/'),
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 10 * 1024 * 1024,
    return503OnClosing: true,
    genReqId: (req) => {
      const id = req.headers['x-openstack-request-id'];
      return typeof id === 'string' && id ? id : `req-${crypto.randomUUID()}`;
    },
  });

  // Neutron reads every body as JSON whatever the Content-Type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      // Neutron's words for a body that is not JSON.
      done(badRequest('Body contains invalid data'), undefined);
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-openstack-request-id', req.id);
    return payload;
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    let e: NeutronError;
    if (err instanceof NeutronError) e = err;
    else if (err.statusCode && err.statusCode < 500) {
      // Fastify's own client errors (body too large, bad URL …).
      e = new NeutronError(err.statusCode === 404 ? 'HTTPNotFound' : 'HTTPBadRequest', err.statusCode, err.message);
    } else {
      req.log.error({ err }, 'internal error');
      e = errors.internal();
    }
    if (e.status === 401 && opts.auth.wwwAuthenticate) reply.header('www-authenticate', opts.auth.wwwAuthenticate);
    reply
      .code(e.status)
      .type('application/json')
      .send({ NeutronError: { type: e.type, message: e.message, detail: e.detail } });
  });
  app.setNotFoundHandler((_req, reply) => {
    const e = httpNotFound();
    reply
      .code(404)
      .type('application/json')
      .send({ NeutronError: { type: e.type, message: e.message, detail: '' } });
  });

  const context = async (req: FastifyRequest): Promise<Context> => {
    if (!req.neutrinoContext) {
      const ctx = await opts.auth.contextFor(req);
      ctx.policy = opts.policy.forContext(ctx);
      req.neutrinoContext = ctx;
    }
    return req.neutrinoContext;
  };

  registerRoot(app, opts.registry, context);
  for (const def of opts.registry.resources) {
    registerResource(app, def, { services: opts.services, context, settings: opts.settings });
  }
  for (const register of opts.routes ?? []) register(app, context);
  return app;
}
