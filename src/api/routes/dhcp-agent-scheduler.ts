// The dhcp_agent_scheduler extension's sub-resources, as Neutron's NetworkSchedulerController and
// DhcpAgentsHostingNetworkController serve them (admin only by default):
//   GET    /v2.0/agents/{id}/dhcp-networks               → {"networks": [...]}
//   POST   /v2.0/agents/{id}/dhcp-networks {network_id}  → 201, null
//   DELETE /v2.0/agents/{id}/dhcp-networks/{network_id}  → 204
//   GET    /v2.0/networks/{id}/dhcp-agents               → {"agents": [...]}
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../../common/errors.js';
import type { Context } from '../../plugins/context.js';
import type { DhcpAgentScheduler } from '../../plugins/dhcp/index.js';
import type { ResourceDef } from '../../resources/types.js';
import { validators } from '../../validation/validators.js';
import { Renderer } from '../render.js';

type IdParams = { id: string };

export interface DhcpSchedulerRoutes {
  /** The scheduler (made after the API: ML2 logs through it). */
  scheduler: () => DhcpAgentScheduler;
  networks: ResourceDef;
  agents: ResourceDef;
}

/** The network_id of a POST body, checked (Neutron's controller would fail with a 500 instead). */
export function networkIdOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Body contains invalid data');
  const id = (body as Record<string, unknown>).network_id;
  if (id === undefined) throw badRequest("Failed to parse request. Required attribute 'network_id' not specified");
  const reason = validators['type:uuid'](id);
  if (reason !== null) throw badRequest(`Invalid input for network_id. Reason: ${reason}.`);
  return id as string;
}

export function registerDhcpAgentScheduler(
  app: FastifyInstance,
  r: DhcpSchedulerRoutes,
  context: (req: FastifyRequest) => Promise<Context>,
): void {
  const networks = new Renderer(r.networks);
  const agents = new Renderer(r.agents);

  app.get<{ Params: IdParams }>('/v2.0/agents/:id/dhcp-networks', async (req) => {
    const ctx = await context(req);
    ctx.policy.enforce('get_dhcp-networks', {});
    return { networks: networks.renderAll(ctx, await r.scheduler().listNetworksOnAgent(ctx, req.params.id)) };
  });

  app.post<{ Params: IdParams }>('/v2.0/agents/:id/dhcp-networks', async (req, reply) => {
    const ctx = await context(req);
    ctx.policy.enforce('create_dhcp-network', {});
    await r.scheduler().addNetworkToAgent(ctx, req.params.id, networkIdOf(req.body));
    reply.code(201).type('application/json');
    return 'null';
  });

  app.delete<{ Params: IdParams & { networkId: string } }>('/v2.0/agents/:id/dhcp-networks/:networkId', async (req, reply) => {
    const ctx = await context(req);
    ctx.policy.enforce('delete_dhcp-network', {});
    await r.scheduler().removeNetworkFromAgent(ctx, req.params.id, req.params.networkId);
    reply.code(204).send();
  });

  app.get<{ Params: IdParams }>('/v2.0/networks/:id/dhcp-agents', async (req) => {
    const ctx = await context(req);
    ctx.policy.enforce('get_dhcp-agents', {});
    return { agents: agents.renderAll(ctx, await r.scheduler().listAgentsHostingNetwork(ctx, req.params.id)) };
  });
}
