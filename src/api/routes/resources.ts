// One generic controller serves every resource definition: list, create (single and bulk),
// show, update, delete, member actions and the /tags sub-resource.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, errors, httpNotFound } from '../../common/errors.js';
import type { Context } from '../../plugins/context.js';
import { MAX_TAGS, type ResourceService } from '../../plugins/service.js';
import type { ResourceDef } from '../../resources/types.js';
import { validators } from '../../validation/validators.js';
import { checkValue, createItems, prepareCreate, prepareUpdate, updateItem } from '../body.js';
import { type ListSettings, paginationLinks, parseFields, parseList, type RawQuery } from '../listing.js';
import { Renderer } from '../render.js';

export interface RouteDeps {
  services: Map<string, ResourceService>;
  context(req: FastifyRequest): Promise<Context>;
  settings: ListSettings & { allowBulk: boolean };
}

type IdParams = { id: string };

/** `If-Match: revision_number=N` → N (revision-if-match). */
export function ifMatchRevision(req: FastifyRequest): number | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined) return undefined;
  const parts = String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('revision_number'));
  if (parts.length === 0) return undefined;
  if (parts.length > 1) throw badRequest('Multiple revision_number etags are not supported.');
  const m = /^revision_number=(-?\d+)$/.exec(parts[0]);
  if (!m) throw badRequest('Revision number etag must be in the format of revision_number=<int>');
  return Number(m[1]);
}

export function absoluteUrl(req: FastifyRequest, path: string): string {
  const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
  return `${proto}://${req.headers.host ?? 'localhost'}${path}`;
}

function validateTags(tags: unknown): string[] {
  const reason = validators['type:list_of_unique_strings'](tags, 255);
  if (reason !== null) throw badRequest(`Invalid input for tags. Reason: ${reason}.`);
  const list = tags as string[];
  if (list.length > MAX_TAGS) throw badRequest(`The number of tags exceeds the limit ${MAX_TAGS}.`);
  return list;
}

export function registerResource(app: FastifyInstance, def: ResourceDef, deps: RouteDeps): void {
  const service = deps.services.get(def.collection);
  if (!service) throw new Error(`no service for ${def.collection}`);
  const renderer = new Renderer(def);
  const base = `/v2.0/${def.path}`;

  app.get(base, async (req) => {
    const ctx = await deps.context(req);
    const q = req.query as RawQuery;
    const { opts, fields, limit, nothing } = parseList(def, q, deps.settings);
    // A controller without pagination (rbac-policies) ignores limit, marker and page_reverse.
    if (!def.allowPagination) Object.assign(opts, { limit: undefined, marker: undefined, pageReverse: false });
    // An unknown (or invisible) marker is the resource's 404, as Neutron's native pagination answers.
    if (opts.marker) await service.get(ctx, opts.marker);
    const items = nothing ? [] : await service.list(ctx, opts);
    const body: Record<string, unknown> = { [def.collection]: renderer.renderAll(ctx, items, fields) };
    if (limit && def.allowPagination) {
      body[`${def.collection}_links`] = paginationLinks(absoluteUrl(req, base), q, items, limit, opts.pageReverse ?? false);
    }
    return body;
  });

  app.post(base, async (req, reply) => {
    const ctx = await deps.context(req);
    const { items, bulk } = createItems(def, req.body);
    if (bulk && !deps.settings.allowBulk) throw badRequest('Bulk operation not supported');
    const prepared = items.map((it) => prepareCreate(def, ctx, it));
    const created = await service.create(ctx, prepared);
    reply.code(201);
    return bulk ? { [def.collection]: renderer.renderAll(ctx, created) } : { [def.member]: renderer.render(ctx, created[0]) };
  });

  // PUT and DELETE on the collection: Neutron's controller looks for a member without an id.
  const noMember = async (req: FastifyRequest) => {
    await deps.context(req);
    throw service.notFound?.('None') ?? httpNotFound();
  };
  app.put(base, { config: { undocumented: true } }, noMember);
  app.delete(base, { config: { undocumented: true } }, noMember);

  app.get<{ Params: IdParams }>(`${base}/:id`, async (req) => {
    const ctx = await deps.context(req);
    const obj = await service.get(ctx, req.params.id);
    return { [def.member]: renderer.render(ctx, obj, parseFields(req.query as RawQuery)) };
  });

  app.put<{ Params: IdParams }>(`${base}/:id`, async (req) => {
    const ctx = await deps.context(req);
    const changes = prepareUpdate(def, updateItem(def, req.body));
    const obj = await service.update(ctx, req.params.id, changes, ifMatchRevision(req));
    return { [def.member]: renderer.render(ctx, obj) };
  });

  app.delete<{ Params: IdParams }>(`${base}/:id`, async (req, reply) => {
    const ctx = await deps.context(req);
    await service.delete(ctx, req.params.id, ifMatchRevision(req));
    reply.code(204).send();
  });

  for (const action of def.memberActions ?? []) {
    app.put<{ Params: IdParams }>(`${base}/:id/${action}`, async (req) => {
      const ctx = await deps.context(req);
      if (!service.action) throw httpNotFound();
      return service.action(ctx, req.params.id, action, req.body);
    });
  }

  if (def.taggable) registerTags(app, base, service, deps);
}

function registerTags(app: FastifyInstance, base: string, service: ResourceService, deps: RouteDeps): void {
  type TagParams = { id: string; tag: string };
  const tagsBody = (body: unknown): string[] => {
    if (typeof body !== 'object' || body === null || !('tags' in body)) throw badRequest("Unable to find 'tags' in request body");
    return validateTags((body as { tags: unknown }).tags);
  };
  const oneTag = (tag: string): string => {
    checkValue('tags', { allowPost: false, allowPut: false, isVisible: false, validate: { type: 'type:string', arg: 255 } }, tag);
    return tag;
  };
  const ctxOf = (req: FastifyRequest) => deps.context(req);

  app.get<{ Params: IdParams }>(`${base}/:id/tags`, async (req) => ({
    tags: await service.getTags(await ctxOf(req), req.params.id),
  }));
  app.put<{ Params: IdParams }>(`${base}/:id/tags`, async (req) => ({
    tags: await service.changeTags(await ctxOf(req), req.params.id, { op: 'replace', tags: tagsBody(req.body) }),
  }));
  app.post<{ Params: IdParams }>(`${base}/:id/tags`, async (req) => ({
    tags: await service.changeTags(await ctxOf(req), req.params.id, { op: 'add', tags: tagsBody(req.body) }),
  }));
  app.delete<{ Params: IdParams }>(`${base}/:id/tags`, async (req, reply: FastifyReply) => {
    await service.changeTags(await ctxOf(req), req.params.id, { op: 'clear' });
    reply.code(204).send();
  });
  app.get<{ Params: TagParams }>(`${base}/:id/tags/:tag`, async (req, reply) => {
    const tags = await service.getTags(await ctxOf(req), req.params.id);
    if (!tags.includes(req.params.tag)) throw errors.tagNotFound(req.params.id, req.params.tag);
    reply.code(204).send();
  });
  app.put<{ Params: TagParams }>(`${base}/:id/tags/:tag`, async (req, reply) => {
    await service.changeTags(await ctxOf(req), req.params.id, { op: 'add', tags: [oneTag(req.params.tag)] });
    reply.code(201).send();
  });
  app.delete<{ Params: TagParams }>(`${base}/:id/tags/:tag`, async (req, reply) => {
    await service.changeTags(await ctxOf(req), req.params.id, { op: 'remove', tag: req.params.tag });
    reply.code(204).send();
  });
}
