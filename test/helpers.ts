// Test harness: a Neutrino server in-process (SQLite in memory unless a URL is given), driven
// over HTTP semantics with Fastify's inject().
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
  private constructor(readonly neutrino: Neutrino) {}

  static async start(
    options: Array<[string, string, unknown]> = [],
    url = process.env.NEUTRINO_TEST_DB ?? 'sqlite://',
  ): Promise<TestServer> {
    const cfg = loadConfig([], [['database', 'connection', url], ...options]);
    return new TestServer(await buildNeutrino(cfg, { migrate: true }));
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

  close(): Promise<void> {
    return this.neutrino.close();
  }
}

/** Asserts a NeutronError reply of the given status and type. */
export function expectError(r: Reply, status: number, type?: string): void {
  if (r.status !== status || (type && r.body?.NeutronError?.type !== type)) {
    throw new Error(`expected ${status} ${type ?? ''}, got ${r.status} ${JSON.stringify(r.body)}`);
  }
  if (typeof r.body?.NeutronError?.message !== 'string') throw new Error(`no NeutronError body: ${JSON.stringify(r.body)}`);
}
