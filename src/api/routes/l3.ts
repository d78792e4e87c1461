// The L3 routes outside the generic controller: l3_agent_scheduler's /v2.0/agents/{id}/l3-routers
// and /v2.0/routers/{id}/l3-agents, auto-allocated-topology's /v2.0/auto-allocated-topology/{project},
// and the flavors' service_profiles and next_providers sub-resources.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../../common/errors.js';
import type { Context } from '../../plugins/context.js';
import type { L3Api } from '../../plugins/l3/index.js';
import type { Registry } from '../../resources/registry.js';
import { parseFields, type RawQuery } from '../listing.js';
import { Renderer } from '../render.js';

const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function registerL3(
  app: FastifyInstance,
  l3: L3Api,
  registry: Registry,
  context: (req: FastifyRequest) => Promise<Context>,
): void {
  const routersView = new Renderer(registry.byCollection.get('routers') ?? l3.routers.def);
  const agentsDef = registry.byCollection.get('agents');
  const agentsView = agentsDef ? new Renderer(agentsDef) : undefined;

  // Neutron serves the pools at floatingip-pools; issue 10 names them floatingip_pools: both answer.
  const poolsDef = registry.byCollection.get('floatingip_pools');
  if (poolsDef) {
    const poolsView = new Renderer(poolsDef);
    app.get('/v2.0/floatingip_pools', async (req) => {
      const ctx = await context(req);
      const pools = await l3.pools.list(ctx, { filters: {}, sorts: [] });
      return { floatingip_pools: poolsView.renderAll(ctx, pools, parseFields(req.query as RawQuery)) };
    });
  }

  app.get<{ Params: { id: string } }>('/v2.0/agents/:id/l3-routers', async (req) => {
    const ctx = await context(req);
    return { routers: routersView.renderAll(ctx, await l3.routersOnAgent(ctx, req.params.id)) };
  });

  app.post<{ Params: { id: string } }>('/v2.0/agents/:id/l3-routers', async (req, reply: FastifyReply) => {
    const ctx = await context(req);
    const body = req.body;
    if (!isDict(body) || typeof body.router_id !== 'string') throw badRequest("Unable to find 'router_id' in request body");
    await l3.addRouterToAgent(ctx, req.params.id, body.router_id);
    reply.code(201).type('application/json').send('null');
  });

  app.delete<{ Params: { id: string; router: string } }>('/v2.0/agents/:id/l3-routers/:router', async (req, reply) => {
    const ctx = await context(req);
    await l3.removeRouterFromAgent(ctx, req.params.id, req.params.router);
    reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/v2.0/routers/:id/l3-agents', async (req) => {
    const ctx = await context(req);
    const agents = await l3.agentsHostingRouter(ctx, req.params.id);
    return { agents: agentsView ? agentsView.renderAll(ctx, agents) : agents };
  });

  app.get<{ Params: { project: string } }>('/v2.0/auto-allocated-topology/:project', async (req) => {
    const ctx = await context(req);
    const topology = await l3.autoAllocator.get(ctx, req.params.project, parseFields(req.query as RawQuery));
    return { auto_allocated_topology: topology };
  });

  app.delete<{ Params: { project: string } }>('/v2.0/auto-allocated-topology/:project', async (req, reply) => {
    const ctx = await context(req);
    await l3.autoAllocator.delete(ctx, req.params.project);
    reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/v2.0/flavors/:id/service_profiles', async (req, reply) => {
    const ctx = await context(req);
    const body = req.body;
    const sp = isDict(body) ? body.service_profile : undefined;
    if (!isDict(sp)) throw badRequest("Unable to find 'service_profile' in request body");
    if (typeof sp.id !== 'string') throw badRequest("Failed to parse request. Required attribute 'id' not specified");
    await l3.flavors.bindProfile(ctx, req.params.id, sp.id);
    reply.code(201);
    return { service_profile: { id: sp.id } };
  });

  app.get<{ Params: { id: string; sp: string } }>('/v2.0/flavors/:id/service_profiles/:sp', async (req) => {
    const ctx = await context(req);
    return { service_profile: await l3.flavors.showBinding(ctx, req.params.id, req.params.sp) };
  });

  app.delete<{ Params: { id: string; sp: string } }>('/v2.0/flavors/:id/service_profiles/:sp', async (req, reply) => {
    const ctx = await context(req);
    await l3.flavors.unbindProfile(ctx, req.params.id, req.params.sp);
    reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/v2.0/flavors/:id/next_providers', async (req) => {
    const ctx = await context(req);
    return { next_providers: await l3.flavors.nextProviders(ctx, req.params.id) };
  });
}
