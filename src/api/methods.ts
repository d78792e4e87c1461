// Every route the server serves, collected as Fastify registers them: a request for a served
// path with a method it does not serve is 405 HTTPMethodNotAllowed (as Neutron answers PATCH,
// HEAD, or POST on a member), not 404; and the OpenAPI document is checked against this list.
import type { FastifyInstance } from 'fastify';
import type { OperationDoc } from './openapi/document.js';

export interface ServedRoute {
  method: string;
  /** Fastify's pattern: /v2.0/networks/:id */
  url: string;
  /** What the route says about itself for the OpenAPI document (route config `openapi`). */
  doc?: OperationDoc;
}

/** Fastify's ':param' pattern as a regular expression over a concrete path. */
function patternOf(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

export class RouteTable {
  /** What the server serves, less the routes registered with `config: { undocumented: true }`
   * (Neutron's quirks, such as a 404 for PUT on a collection). */
  readonly routes: ServedRoute[] = [];
  private readonly patterns: Array<{ method: string; re: RegExp }> = [];

  /** Records every route registered on `app` from now on. */
  follow(app: FastifyInstance): void {
    app.addHook('onRoute', (r) => {
      const config = r.config as { undocumented?: boolean; openapi?: OperationDoc } | undefined;
      for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
        if (config?.undocumented !== true) this.routes.push({ method, url: r.url, doc: config?.openapi });
        this.patterns.push({ method, re: patternOf(r.url) });
      }
    });
  }

  /** The methods served on a concrete path, in a stable order. */
  methodsFor(path: string): string[] {
    const methods = new Set(this.patterns.filter((p) => p.re.test(path)).map((p) => p.method));
    return ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => methods.has(m));
  }
}
