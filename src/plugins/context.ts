// The request context every plugin call receives: who is asking, with which roles, and the
// policy to check what they ask against.
import { randomUUID } from 'node:crypto';
import { policyNotAuthorized } from '../common/errors.js';

/** Policy checks bound to one caller (implemented by src/api/policy). */
export interface PolicyChecker {
  has(rule: string): boolean;
  allows(rule: string, target: Record<string, unknown>): boolean;
  /** The verdict of `rule` when it is the same for every target, else undefined. */
  decided(rule: string): boolean | undefined;
  /** Throws 403 PolicyNotAuthorized naming the rule. */
  enforce(rule: string, target: Record<string, unknown>): void;
}

export interface Context {
  projectId: string | null;
  userId: string | null;
  roles: string[];
  isAdmin: boolean;
  requestId: string;
  policy: PolicyChecker;
}

/** Keystone's default implied roles: admin implies member, member implies reader. */
const IMPLIED: Record<string, string[]> = { admin: ['member', 'reader'], member: ['reader'] };

/** Until the API binds the configured policy: admins may do anything, others nothing. */
const adminOnly = (isAdmin: boolean): PolicyChecker => ({
  has: () => false,
  allows: () => isAdmin,
  decided: () => isAdmin,
  enforce: (rule) => {
    if (!isAdmin) throw policyNotAuthorized(rule);
  },
});

export function makeContext(init: Partial<Context> & { roles?: string[] }): Context {
  const given = (init.roles ?? []).map((r) => r.trim().toLowerCase()).filter(Boolean);
  const roles = [...new Set(given.flatMap((r) => [r, ...(IMPLIED[r] ?? [])]))];
  const isAdmin = init.isAdmin ?? roles.includes('admin');
  return {
    projectId: init.projectId ?? null,
    userId: init.userId ?? null,
    roles,
    isAdmin,
    requestId: init.requestId ?? `req-${randomUUID()}`,
    policy: init.policy ?? adminOnly(isAdmin),
  };
}

export const adminContext = (): Context => makeContext({ isAdmin: true, roles: ['admin'] });
