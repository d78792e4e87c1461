// GET /, GET /v2.0 and the extension list, in Neutron's shapes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NeutronError } from '../../common/errors.js';
import type { Registry } from '../../resources/registry.js';
import { absoluteUrl } from './resources.js';

/** `authenticate` checks the caller's identity: as in Neutron, only `/` (the version list) is open;
 * everything under /v2.0 passes the auth middleware. */
export function registerRoot(
  app: FastifyInstance,
  registry: Registry,
  authenticate: (req: FastifyRequest) => Promise<unknown>,
): void {
  const doc = (summary: string) => ({ config: { openapi: { summary } } });
  app.get('/', doc('The API versions (no authentication)'), async (req) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: absoluteUrl(req, '/v2.0/'), rel: 'self' }] }],
  }));

  const index = async (req: FastifyRequest) => {
    await authenticate(req);
    return {
      resources: registry.resources.map((r) => ({
        name: r.member,
        collection: r.collection,
        links: [{ href: absoluteUrl(req, `/v2.0/${r.path}`), rel: 'self' }],
      })),
    };
  };
  app.get('/v2.0', doc('The resources of v2.0'), index);

  const render = (e: Registry['extensions'][number]) => ({
    alias: e.alias,
    name: e.name,
    description: e.description,
    updated: e.updated,
    links: [],
  });
  app.get('/v2.0/extensions', doc('The loaded extensions'), async (req) => {
    await authenticate(req);
    return { extensions: registry.extensions.map(render) };
  });
  app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', doc('One extension'), async (req) => {
    await authenticate(req);
    const e = registry.extensions.find((x) => x.alias === req.params.alias);
    if (!e) throw new NeutronError('HTTPNotFound', 404, `Extension with alias ${req.params.alias} does not exist`);
    return { extension: render(e) };
  });
}
