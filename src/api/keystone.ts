// Keystone token validation, as keystonemiddleware's auth_token does it for neutron-server:
// the service's own token (from [keystone_authtoken]) validates each X-Auth-Token against
// Keystone v3; results are cached for a bounded time; an invalid token is 401 with
// WWW-Authenticate, an unreachable Keystone 503 — never a 500 or a hang.
import type { FastifyRequest } from 'fastify';
import { NeutronError } from '../common/errors.js';
import { type Context, makeContext } from '../plugins/context.js';
import type { Authenticator } from './auth.js';

export interface KeystoneOptions {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  /** Seconds a validated token stays cached. */
  cacheSeconds: number;
  /** Per-request timeout towards Keystone, ms. */
  timeoutMs?: number;
}

interface Cached {
  projectId: string | null;
  userId: string | null;
  roles: string[];
  until: number;
}

const MAX_CACHE = 10_000;

export class KeystoneAuth implements Authenticator {
  private serviceToken: { token: string; until: number } | null = null;
  private pendingServiceToken: Promise<string> | null = null;
  private cache = new Map<string, Cached>();
  private readonly base: string;

  constructor(private opts: KeystoneOptions) {
    const url = opts.authUrl.replace(/\/+$/, '');
    this.base = url.endsWith('/v3') ? url : `${url}/v3`;
  }

  private unauthorized(): NeutronError {
    return new NeutronError('HTTPUnauthorized', 401, 'The request you have made requires authentication.');
  }

  private unavailable(why: string): NeutronError {
    return new NeutronError('ServiceUnavailable', 503, `Identity service unavailable: ${why}`);
  }

  /** WWW-Authenticate value for 401 replies. */
  get wwwAuthenticate(): string {
    return `Keystone uri="${this.base.replace(/\/v3$/, '')}"`;
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) });
    } catch (err) {
      throw this.unavailable((err as Error).message);
    }
  }

  private async fetchServiceToken(): Promise<string> {
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: this.opts.username, password: this.opts.password, domain: { name: this.opts.userDomainName } },
          },
        },
        scope: { project: { name: this.opts.projectName, domain: { name: this.opts.projectDomainName } } },
      },
    };
    const r = await this.call('/auth/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const token = r.headers.get('x-subject-token');
    if (r.status !== 201 || !token) throw this.unavailable(`service credentials rejected (${r.status})`);
    const json = (await r.json()) as { token?: { expires_at?: string } };
    const expires = Date.parse(json.token?.expires_at ?? '') || Date.now() + 3600_000;
    this.serviceToken = { token, until: expires - 60_000 };
    return token;
  }

  private async getServiceToken(): Promise<string> {
    if (this.serviceToken && this.serviceToken.until > Date.now()) return this.serviceToken.token;
    // One refresh at a time however many requests arrive together.
    this.pendingServiceToken ??= this.fetchServiceToken().finally(() => {
      this.pendingServiceToken = null;
    });
    return this.pendingServiceToken;
  }

  private async validate(token: string, retry = true): Promise<Cached> {
    const service = await this.getServiceToken();
    const r = await this.call('/auth/tokens', {
      method: 'GET',
      headers: { 'x-auth-token': service, 'x-subject-token': token },
    });
    if (r.status === 401 && retry) {
      this.serviceToken = null;
      return this.validate(token, false);
    }
    if (r.status === 404 || r.status === 401) throw this.unauthorized();
    if (r.status !== 200) throw this.unavailable(`token validation answered ${r.status}`);
    const json = (await r.json()) as {
      token: { project?: { id: string }; user?: { id: string }; roles?: Array<{ name: string }>; expires_at?: string };
    };
    const t = json.token;
    const expires = Date.parse(t.expires_at ?? '') || Number.POSITIVE_INFINITY;
    return {
      projectId: t.project?.id ?? null,
      userId: t.user?.id ?? null,
      roles: (t.roles ?? []).map((x) => x.name),
      until: Math.min(expires, Date.now() + this.opts.cacheSeconds * 1000),
    };
  }

  async contextFor(req: FastifyRequest): Promise<Context> {
    const raw = req.headers['x-auth-token'];
    const token = Array.isArray(raw) ? raw[0] : raw;
    if (!token) throw this.unauthorized();
    let entry = this.cache.get(token);
    if (!entry || entry.until <= Date.now()) {
      entry = await this.validate(token);
      if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token, entry);
    }
    const requestId = req.headers['x-openstack-request-id'];
    return makeContext({
      projectId: entry.projectId,
      userId: entry.userId,
      roles: entry.roles,
      requestId: typeof requestId === 'string' ? requestId : undefined,
    });
  }
}
