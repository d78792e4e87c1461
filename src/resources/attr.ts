// Shorthands for writing attribute definitions. Flags follow neutron-lib: P allow_post,
// U allow_put, V is_visible, F is_filter, S is_sort_key.
import type { AttributeDef } from './types.js';
import { UNSET } from './types.js';

/** `flags` is a string of the letters above, e.g. 'PUVFS'. */
export function attr(flags: string, rest: Partial<AttributeDef> = {}): AttributeDef {
  return {
    allowPost: flags.includes('P'),
    allowPut: flags.includes('U'),
    isVisible: flags.includes('V'),
    isFilter: flags.includes('F'),
    isSort: flags.includes('S'),
    ...rest,
  };
}

export const id = (): AttributeDef => attr('VFS', { validate: { type: 'type:uuid' }, storage: { kind: 'column' } });

export const name = (): AttributeDef => attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 255 } });

export const projectId = (): AttributeDef => attr('PVFS', { validate: { type: 'type:string', arg: 255 }, default: UNSET });

/** `tenant_id` is the same column as `project_id`. */
export const tenantId = (): AttributeDef =>
  attr('PVFS', {
    validate: { type: 'type:string', arg: 255 },
    default: UNSET,
    storage: { kind: 'column', column: 'project_id' },
  });

export const bool = (flags: string, def: boolean | typeof UNSET, extra: Partial<AttributeDef> = {}): AttributeDef =>
  attr(flags, { default: def, convertTo: 'convert_to_boolean', validate: { type: 'type:boolean' }, ...extra });

export const json = (flags: string, extra: Partial<AttributeDef> = {}): AttributeDef =>
  attr(flags, { storage: { kind: 'json' }, ...extra });

export const virtual = (flags: string, extra: Partial<AttributeDef> = {}): AttributeDef =>
  attr(flags, { storage: { kind: 'virtual' }, ...extra });
