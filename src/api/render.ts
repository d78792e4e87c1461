// Shapes a stored dict into what the caller sees: visible attributes only, those whose
// `get_<member>:<attr>` policy rule the caller fails left out, and only the requested `fields=`.
import type { Context } from '../plugins/context.js';
import type { Dict } from '../plugins/service.js';
import type { ResourceDef } from '../resources/types.js';
import { UNSET } from '../resources/types.js';

export class Renderer {
  private readonly visible: string[];
  private readonly asString: Set<string>;

  constructor(readonly def: ResourceDef) {
    this.visible = Object.entries(def.attributes)
      .filter(([, a]) => a.isVisible)
      .map(([n]) => n);
    this.asString = new Set(
      Object.entries(def.attributes)
        .filter(([, a]) => a.renderAsString)
        .map(([n]) => n),
    );
  }

  render(ctx: Context, obj: Dict, fields: string[] = []): Dict {
    const out: Dict = {};
    const wanted = fields.length ? new Set(fields) : undefined;
    for (const name of this.visible) {
      if (wanted && !wanted.has(name)) continue;
      const rule = `get_${this.def.member}:${name}`;
      if (ctx.policy.has(rule) && !ctx.policy.allows(rule, { ...obj, tenant_id: obj.project_id })) continue;
      const v = name === 'tenant_id' ? obj.project_id : obj[name];
      out[name] = v === undefined || v === UNSET || v === null ? null : this.asString.has(name) ? String(v) : v;
    }
    return out;
  }
}
