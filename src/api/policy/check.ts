// oslo.policy check strings: parsing and evaluation. Grammar: `or`, `and`, `not`, parentheses,
// `@` (always), `!` (never), `rule:NAME`, `role:NAME`, `field:RESOURCE:FIELD=VALUE` (or `=~REGEX`,
// Neutron's FieldCheck), and generic `KEY:MATCH` where MATCH may name a target attribute as
// `%(attr)s` and KEY is a credential (project_id, tenant_id, user_id, is_admin) or a literal.

export interface Creds {
  project_id: string | null;
  tenant_id: string | null;
  user_id: string | null;
  roles: string[];
  is_admin: boolean;
}

export type Target = Record<string, unknown>;

export type Check =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'not'; check: Check }
  | { kind: 'and'; checks: Check[] }
  | { kind: 'or'; checks: Check[] }
  | { kind: 'rule'; name: string }
  | { kind: 'role'; role: string }
  | { kind: 'field'; resource: string; field: string; value: string; regex: boolean }
  | { kind: 'generic'; key: string; match: string };

export class PolicySyntaxError extends Error {}

/** Whitespace-separated words, with parentheses peeled off their ends as oslo.policy does
 * (so the `%(attr)s` inside a check stays whole). */
function tokenize(text: string): string[] {
  const out: string[] = [];
  for (let word of text.split(/\s+/).filter((t) => t !== '')) {
    while (word.startsWith('(')) {
      out.push('(');
      word = word.slice(1);
    }
    let closing = 0;
    while (word.endsWith(')') && !/%\([^)]*\)$/.test(word)) {
      closing++;
      word = word.slice(0, -1);
    }
    if (word) out.push(word);
    for (let i = 0; i < closing; i++) out.push(')');
  }
  return out;
}

function atom(token: string): Check {
  if (token === '@') return { kind: 'true' };
  if (token === '!') return { kind: 'false' };
  const colon = token.indexOf(':');
  if (colon <= 0) throw new PolicySyntaxError(`'${token}' is not a check (expected KIND:MATCH, @ or !)`);
  const kind = token.slice(0, colon);
  const rest = token.slice(colon + 1);
  if (kind === 'rule') return { kind: 'rule', name: rest };
  if (kind === 'role') return { kind: 'role', role: rest.toLowerCase() };
  if (kind === 'field') {
    const m = /^([^:]+):([^=]+)=(~?)(.*)$/.exec(rest);
    if (!m) throw new PolicySyntaxError(`'${token}' is not a field check (field:RESOURCE:FIELD=VALUE)`);
    return { kind: 'field', resource: m[1], field: m[2], value: m[4], regex: m[3] === '~' };
  }
  return { kind: 'generic', key: kind, match: rest };
}

/** Parses one check string; the empty string always passes, as in oslo.policy. */
export function parseCheck(text: string): Check {
  const tokens = tokenize(text);
  if (tokens.length === 0) return { kind: 'true' };
  let i = 0;
  const peek = () => tokens[i];
  const orExpr = (): Check => {
    const checks = [andExpr()];
    while (peek() === 'or') {
      i++;
      checks.push(andExpr());
    }
    return checks.length === 1 ? checks[0] : { kind: 'or', checks };
  };
  const andExpr = (): Check => {
    const checks = [notExpr()];
    while (peek() === 'and') {
      i++;
      checks.push(notExpr());
    }
    return checks.length === 1 ? checks[0] : { kind: 'and', checks };
  };
  const notExpr = (): Check => {
    if (peek() === 'not') {
      i++;
      return { kind: 'not', check: notExpr() };
    }
    const t = tokens[i++];
    if (t === undefined) throw new PolicySyntaxError(`'${text}' ends too early`);
    if (t === '(') {
      const inner = orExpr();
      if (tokens[i++] !== ')') throw new PolicySyntaxError(`'${text}' has an unclosed parenthesis`);
      return inner;
    }
    if (t === ')' || t === 'and' || t === 'or') throw new PolicySyntaxError(`unexpected '${t}' in '${text}'`);
    return atom(t);
  };
  const check = orExpr();
  if (i !== tokens.length) throw new PolicySyntaxError(`unexpected '${tokens[i]}' in '${text}'`);
  return check;
}

/** The rule names a check refers to (to reject policy files that name missing rules). */
export function referencedRules(c: Check): string[] {
  switch (c.kind) {
    case 'rule':
      return [c.name];
    case 'not':
      return referencedRules(c.check);
    case 'and':
    case 'or':
      return c.checks.flatMap(referencedRules);
    default:
      return [];
  }
}

const interpolate = (match: string, target: Target): string | undefined => {
  let missing = false;
  const out = match.replace(/%\(([^)]+)\)s/g, (_, name: string) => {
    const v = target[name];
    if (v === undefined || v === null) missing = true;
    return String(v);
  });
  return missing ? undefined : out;
};

const pyStr = (v: unknown): string => (v === true ? 'True' : v === false ? 'False' : v === null ? 'None' : String(v));

export function evaluate(c: Check, target: Target, creds: Creds, rules: (name: string) => Check | undefined, depth = 0): boolean {
  if (depth > 50) throw new PolicySyntaxError('policy rules refer to each other in a loop');
  const ev = (x: Check) => evaluate(x, target, creds, rules, depth + 1);
  switch (c.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !ev(c.check);
    case 'and':
      return c.checks.every(ev);
    case 'or':
      return c.checks.some(ev);
    case 'rule': {
      const r = rules(c.name);
      return r ? ev(r) : false;
    }
    case 'role':
      return creds.roles.includes(c.role);
    case 'field': {
      // On another resource's target (a port asking about its network), Neutron reads the
      // parent's field, which the target carries as `network:<field>`.
      const own = target[c.field];
      const v = own !== undefined ? own : target[`${c.resource.replace(/s$/, '')}:${c.field}`];
      if (v === undefined) return false;
      return c.regex ? new RegExp(c.value).test(pyStr(v)) : pyStr(v) === c.value;
    }
    case 'generic': {
      const match = interpolate(c.match, target);
      if (match === undefined) return false;
      if (c.key in creds) {
        const have = (creds as unknown as Record<string, unknown>)[c.key];
        return have !== null && have !== undefined && pyStr(have) === match;
      }
      // A literal on the left: 'True:%(shared)s'.
      return c.key === match;
    }
  }
}

/**
 * The verdict of `c` when it is the same for every target (it reads only the caller's credentials),
 * else undefined: three-valued, so `role:admin or project_id:%(project_id)s` is decided for an admin
 * and left to each target for anyone else. Lets a list check an attribute rule once, not per row.
 */
export function decide(c: Check, creds: Creds, rules: (name: string) => Check | undefined, depth = 0): boolean | undefined {
  if (depth > 50) return undefined;
  const d = (x: Check) => decide(x, creds, rules, depth + 1);
  switch (c.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not': {
      const v = d(c.check);
      return v === undefined ? undefined : !v;
    }
    case 'and': {
      let all = true;
      for (const x of c.checks) {
        const v = d(x);
        if (v === false) return false;
        if (v === undefined) all = false;
      }
      return all ? true : undefined;
    }
    case 'or': {
      let none = true;
      for (const x of c.checks) {
        const v = d(x);
        if (v === true) return true;
        if (v === undefined) none = false;
      }
      return none ? false : undefined;
    }
    case 'rule': {
      const r = rules(c.name);
      return r ? d(r) : false;
    }
    case 'role':
      return creds.roles.includes(c.role);
    case 'field':
      return undefined;
    case 'generic':
      return c.match.includes('%(') ? undefined : evaluate(c, {}, creds, rules, depth);
  }
}
