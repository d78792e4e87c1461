// Shapes stored dicts into what the caller sees: visible attributes only, those whose
// `get_<member>:<attr>` policy rule the caller fails left out, and only the requested `fields=`.
import type { Context } from '../plugins/context.js';
import type { Dict } from '../plugins/service.js';
import type { ResourceDef } from '../resources/types.js';
import { ABSENT, UNSET } from '../resources/types.js';

export class Renderer {
  /** Visible attributes with the name of their attribute-level read rule. */
  private readonly visible: Array<{ name: string; rule: string; asString: boolean }>;

  constructor(readonly def: ResourceDef) {
    this.visible = Object.entries(def.attributes)
      .filter(([, a]) => a.isVisible)
      .map(([name, a]) => ({ name, rule: `get_${def.member}:${name}`, asString: a.renderAsString === true }));
  }

  render(ctx: Context, obj: Dict, fields: string[] = []): Dict {
    return this.renderAll(ctx, [obj], fields)[0];
  }

  /** Renders many objects, deciding once which attributes are wanted and which are guarded: a rule
   * whose verdict no target changes (admin_only for anyone) is checked once, the others per object. */
  renderAll(ctx: Context, objs: Dict[], fields: string[] = []): Dict[] {
    const wanted = fields.length ? new Set(fields) : undefined;
    const attrs: Array<{ name: string; rule: string; asString: boolean; perObject: boolean }> = [];
    for (const a of this.visible) {
      if (wanted && !wanted.has(a.name)) continue;
      const verdict = ctx.policy.has(a.rule) ? ctx.policy.decided(a.rule) : true;
      if (verdict === false) continue;
      attrs.push({ ...a, perObject: verdict === undefined });
    }
    const guarded = attrs.some((a) => a.perObject);
    return objs.map((obj) => {
      const out: Dict = {};
      const target = guarded ? { ...obj, tenant_id: obj.project_id } : undefined;
      for (const a of attrs) {
        if (a.perObject && !ctx.policy.allows(a.rule, target as Dict)) continue;
        const v = a.name === 'tenant_id' ? obj.project_id : obj[a.name];
        if (v === ABSENT) continue;
        out[a.name] = v === undefined || v === UNSET || v === null ? null : a.asString ? String(v) : v;
      }
      return out;
    });
  }
}
