// Builds the effective definition of every resource: its own attributes, those of the enabled
// extensions, and the standard attributes. Everything else (validation, filters, DB mapping,
// /v2.0/extensions) reads the result.
import { attr, virtual } from './attr.js';
import { networks, ports, subnets } from './core.js';
import { EXTENSIONS } from './extensions.js';
import type { AttributeMap, ExtensionDef, ResourceDef } from './types.js';

export const STANDARD_ATTRIBUTES: AttributeMap = {
  description: attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 255 } }),
  tags: virtual('V', { validate: { type: 'type:list_of_unique_strings', arg: 255 } }),
  created_at: attr('VFS'),
  updated_at: attr('VFS'),
  revision_number: attr('VFS', { convertTo: 'convert_to_int' }),
};

export interface Registry {
  extensions: ExtensionDef[];
  resources: ResourceDef[];
  byCollection: Map<string, ResourceDef>;
  byPath: Map<string, ResourceDef>;
  hasExtension(alias: string): boolean;
}

export function buildRegistry(extensions: ExtensionDef[] = EXTENSIONS): Registry {
  const base: ResourceDef[] = [networks, subnets, ports];
  for (const e of extensions) for (const r of e.resources ?? []) base.push(r);
  const aliases = new Set(extensions.map((e) => e.alias));

  const resources = base.map((r): ResourceDef => {
    const attributes: AttributeMap = { ...r.attributes };
    for (const e of extensions) Object.assign(attributes, e.attributes?.[r.collection] ?? {});
    if (r.standardAttrs) {
      Object.assign(attributes, STANDARD_ATTRIBUTES);
      // Ports take tags in POST (tag-ports-during-bulk-creation).
      if (r.collection === 'ports' && aliases.has('tag-ports-during-bulk-creation')) {
        attributes.tags = { ...STANDARD_ATTRIBUTES.tags, allowPost: true, default: [] };
      }
    }
    return { ...r, attributes };
  });

  return {
    extensions,
    resources,
    byCollection: new Map(resources.map((r) => [r.collection, r])),
    byPath: new Map(resources.map((r) => [r.path, r])),
    hasExtension: (alias) => aliases.has(alias),
  };
}
