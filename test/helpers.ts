// Test harness: a Neutrino server in-process (SQLite in memory unless a URL is given, or a fresh
// PostgreSQL database when NEUTRINO_TEST_DB names a PostgreSQL server), driven over HTTP
// semantics with Fastify's inject().
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildNeutrino, type Neutrino } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';

export interface As {
  project?: string;
  roles?: string[];
  /** No identity headers at all: noauth's admin. */
  anonymous?: boolean;
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
  body: any;
  headers: Record<string, unknown>;
}

export const ADMIN: As = { project: 'admin-project', roles: ['admin'] };
export const ALICE: As = { project: 'alice-project', roles: ['member'] };
export const BOB: As = { project: 'bob-project', roles: ['member'] };

export class TestServer {
  private constructor(
    readonly neutrino: Neutrino,
    private readonly dropDatabase?: () => Promise<void>,
  ) {}

  /** A server on `url`: SQLite in memory by default; with a PostgreSQL URL (NEUTRINO_TEST_DB, set
   * by scripts/test-postgres.sh), a fresh database of its own on that server, dropped on close. */
  static async start(
    options: Array<[string, string, unknown]> = [],
    url = process.env.NEUTRINO_TEST_DB ?? 'sqlite://',
  ): Promise<TestServer> {
    const fresh = isPostgresUrl(url) ? await freshPostgresDatabase(url) : undefined;
    try {
      const cfg = loadConfig([], [['database', 'connection', fresh?.url ?? url], ...options]);
      return new TestServer(await buildNeutrino(cfg, { migrate: true }), fresh?.drop);
    } catch (err) {
      await fresh?.drop();
      throw err;
    }
  }

  async request(method: string, url: string, body?: unknown, as: As = ADMIN): Promise<Reply> {
    const headers: Record<string, string> = { ...(as.headers ?? {}) };
    if (!as.anonymous) {
      if (as.project) headers['x-project-id'] = as.project;
      headers['x-roles'] = (as.roles ?? ['member']).join(',');
    }
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await this.neutrino.app.inject({ method: method as 'GET', url, headers, payload });
    const text = res.body;
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  get = (url: string, as?: As) => this.request('GET', url, undefined, as);
  post = (url: string, body: unknown, as?: As) => this.request('POST', url, body, as);
  put = (url: string, body: unknown, as?: As) => this.request('PUT', url, body, as);
  del = (url: string, as?: As) => this.request('DELETE', url, undefined, as);

  /** Creates a resource and returns it, failing loudly on any non-201. */
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
  async create(collection: string, member: string, attrs: Record<string, unknown>, as: As = ADMIN): Promise<any> {
    const path = collection.replace(/_/g, '-');
    const r = await this.post(`/v2.0/${path}`, { [member]: attrs }, as);
    if (r.status !== 201) throw new Error(`create ${member} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body[member];
  }

  network = (attrs: Record<string, unknown> = {}, as: As = ALICE) =>
    this.create('networks', 'network', { name: 'net', ...attrs }, as);
  subnet = (networkId: string, cidr: string, attrs: Record<string, unknown> = {}, as: As = ALICE) =>
    this.create('subnets', 'subnet', { network_id: networkId, cidr, ip_version: cidr.includes(':') ? 6 : 4, ...attrs }, as);
  port = (networkId: string, attrs: Record<string, unknown> = {}, as: As = ALICE) =>
    this.create('ports', 'port', { network_id: networkId, ...attrs }, as);

  async close(): Promise<void> {
    await this.neutrino.close();
    await this.dropDatabase?.();
  }
}

/** Asserts a NeutronError reply of the given status and type. */
export function expectError(r: Reply, status: number, type?: string): void {
  if (r.status !== status || (type && r.body?.NeutronError?.type !== type)) {
    throw new Error(`expected ${status} ${type ?? ''}, got ${r.status} ${JSON.stringify(r.body)}`);
  }
  if (typeof r.body?.NeutronError?.message !== 'string') throw new Error(`no NeutronError body: ${JSON.stringify(r.body)}`);
}

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?(\+\w+)?:\/\//i.test(url);

/** Creates `neutrino_t_<random>` on the server of `serverUrl` (any database of it); returns its
 * URL and a function that drops it (closing whatever connections are left). */
export async function freshPostgresDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(serverUrl.replace(/^postgres(ql)?(\+\w+)?:/i, 'postgresql:'));
  const name = `neutrino_t_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: base.toString() });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
