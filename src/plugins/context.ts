// The request context every plugin call receives: who is asking, with which roles.
import { randomUUID } from 'node:crypto';

export interface Context {
  projectId: string | null;
  userId: string | null;
  roles: string[];
  isAdmin: boolean;
  requestId: string;
}

export function makeContext(init: Partial<Context> & { roles?: string[] }): Context {
  const roles = (init.roles ?? []).map((r) => r.trim().toLowerCase()).filter(Boolean);
  return {
    projectId: init.projectId ?? null,
    userId: init.userId ?? null,
    roles,
    isAdmin: init.isAdmin ?? roles.includes('admin'),
    requestId: init.requestId ?? `req-${randomUUID()}`,
  };
}

export const adminContext = (): Context => makeContext({ isAdmin: true, roles: ['admin'] });
