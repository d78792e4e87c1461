// The HTTP server: Fastify with Neutron's error shapes, JSON parsing that never 500s on bad
// input, the oslo sizelimit body limit, 405 for a served path's other methods, `.json` URL
// suffixes, and the generic controller mounted for every resource.
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { errors, httpNotFound, NeutronError } from '../common/errors.js';
import type { Context } from '../plugins/context.js';
import type { ResourceService } from '../plugins/service.js';
import type { Registry } from '../resources/registry.js';
import { VERSION } from '../version.js';
import type { Authenticator } from './auth.js';
import { parseJsonBody } from './json-body.js';
import type { ListSettings } from './listing.js';
import { RouteTable } from './methods.js';
import { buildDocument } from './openapi/document.js';
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
  /** Largest request body in bytes: [oslo_middleware] max_request_body_size (oslo's default 114688). */
  maxBodySize?: number;
  /** Routes outside the generic controller (quotas, network-ip-availabilities …). */
  routes?: Array<(app: FastifyInstance, context: (req: FastifyRequest) => Promise<Context>) => void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    neutrinoContext?: Context;
  }
  interface FastifyInstance {
    /** Every method and URL pattern the server serves (the OpenAPI document must cover them). */
    servedRoutes: Array<{ method: string; url: string }>;
    /** The OpenAPI 3 document of what is served (after every route is registered). */
    openapi(): Record<string, unknown>;
  }
}

/** oslo.middleware sizelimit's default max_request_body_size (112 KiB). */
export const MAX_REQUEST_BODY_SIZE = 114688;

/** Neutron's type names (webob's exception classes) for the HTTP errors Fastify raises itself. */
const HTTP_ERROR_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
};

/** webob's explanation of a 405, which Neutron returns as the message. */
const NOT_ALLOWED = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

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
    bodyLimit: opts.maxBodySize ?? MAX_REQUEST_BODY_SIZE,
    // HEAD is not served (Neutron answers 405), rather than answered as a GET without a body.
    exposeHeadRoutes: false,
    return503OnClosing: true,
    genReqId: (req) => {
      const id = req.headers['x-openstack-request-id'];
      return typeof id === 'string' && id ? id : `req-${crypto.randomUUID()}`;
    },
  });

  const routes = new RouteTable();
  routes.follow(app);
  app.decorate('servedRoutes', routes.routes);

  // Neutron reads every body as JSON whatever the Content-Type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // With [DEFAULT] debug: each request as it arrives, with who sends it (noauth headers).
  app.addHook('onRequest', async (req) => {
    if (req.log.level !== 'debug' && req.log.level !== 'trace') return;
    const who = req.headers['x-project-id'] ?? req.headers['x-tenant-id'];
    req.log.debug(`received ${req.method} ${req.url}${who ? ` from project ${who}` : ''}`);
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
    else if (err.statusCode === 413) {
      // oslo.middleware sizelimit's answer.
      const limit = opts.maxBodySize ?? MAX_REQUEST_BODY_SIZE;
      e = new NeutronError(
        'HTTPRequestEntityTooLarge',
        413,
        `Request is too large. Larger than max_request_body_size (${limit}).`,
      );
    } else if (err.statusCode && err.statusCode < 500) {
      // Fastify's own client errors (bad URL, bad Content-Length …).
      e = new NeutronError(HTTP_ERROR_TYPES[err.statusCode] ?? 'HTTPBadRequest', err.statusCode, err.message);
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
  app.setNotFoundHandler((req, reply) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const allowed = routes.methodsFor(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      reply.code(405).type('application/json');
      // A HEAD answer has no body.
      if (req.method === 'HEAD') return reply.send();
      return reply.send({ NeutronError: { type: 'HTTPMethodNotAllowed', message: NOT_ALLOWED, detail: '' } });
    }
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

  // The OpenAPI document of everything registered above (and itself), built once, when first asked.
  let document: Record<string, unknown> | undefined;
  app.get(
    // Served at /v2.0/openapi.json: rewriteUrl strips the .json suffix, as from every path.
    '/v2.0/openapi',
    { config: { openapi: { summary: 'This API as an OpenAPI 3 document', response: { type: 'object' } } } },
    async (req) => {
      await context(req);
      document ??= buildDocument(opts.registry, routes.routes, VERSION);
      return document;
    },
  );
  app.decorate('openapi', () => {
    document ??= buildDocument(opts.registry, routes.routes, VERSION);
    return document;
  });
  return app;
}
