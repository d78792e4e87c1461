// Identity of a request. noauth: as neutron-server without Keystone, plus what tests need —
// X-Project-Id / X-User-Id / X-Roles headers give the project and roles; no headers means admin,
// acting in the project `admin` so that plain clients (openstack CLI with auth type none) can
// create resources without naming a tenant_id.
import type { FastifyRequest } from 'fastify';
import { type Context, makeContext } from '../plugins/context.js';

export interface Authenticator {
  /** The caller's context; throws a NeutronError (401, 503) when it cannot be established. */
  contextFor(req: FastifyRequest): Promise<Context>;
  /** Sent as WWW-Authenticate with 401 replies. */
  readonly wwwAuthenticate?: string;
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export const NOAUTH_PROJECT = 'admin';

export class NoAuth implements Authenticator {
  async contextFor(req: FastifyRequest): Promise<Context> {
    const projectId = header(req, 'x-project-id') ?? header(req, 'x-tenant-id');
    const userId = header(req, 'x-user-id');
    const rolesHeader = header(req, 'x-roles');
    const requestId = header(req, 'x-openstack-request-id');
    if (projectId === undefined && rolesHeader === undefined) {
      return makeContext({ isAdmin: true, roles: ['admin'], projectId: NOAUTH_PROJECT, userId: userId ?? null, requestId });
    }
    const roles = (rolesHeader ?? 'member').split(',');
    return makeContext({ projectId: projectId ?? null, userId: userId ?? null, roles, requestId });
  }
}
