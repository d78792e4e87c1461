// The policy engine: Neutron's default rules, overridden by an operator's policy file
// ([oslo_policy] policy_file, YAML or JSON, oslo.policy syntax), checked against the caller's
// credentials. An invalid policy file stops startup.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { policyNotAuthorized } from '../../common/errors.js';
import type { Context, PolicyChecker } from '../../plugins/context.js';
import type { ResourceDef } from '../../resources/types.js';
import {
  type Check,
  type Creds,
  decide,
  evaluate,
  PolicySyntaxError,
  parseCheck,
  referencedRules,
  type Target,
} from './check.js';
import { BASE_RULES, definitionRules, RESOURCE_RULES } from './defaults.js';

export class PolicyFileError extends Error {}

export class Policy {
  private readonly rules = new Map<string, Check>();

  constructor(texts: Record<string, string>) {
    for (const [name, text] of Object.entries(texts)) {
      try {
        this.rules.set(name, parseCheck(text));
      } catch (err) {
        throw new PolicyFileError(`policy rule '${name}': ${(err as Error).message}`);
      }
    }
    for (const [name, check] of this.rules) {
      for (const ref of referencedRules(check)) {
        if (!this.rules.has(ref)) throw new PolicyFileError(`policy rule '${name}' refers to an undefined rule '${ref}'`);
      }
    }
  }

  /** The defaults for these resources, with `overrides` (an operator's file) on top. */
  static withDefaults(resources: ResourceDef[], overrides: Record<string, string> = {}): Policy {
    return new Policy({ ...BASE_RULES, ...definitionRules(resources), ...RESOURCE_RULES, ...overrides });
  }

  /** Reads a policy file: a mapping of rule names to check strings. */
  static readFile(path: string): Record<string, string> {
    let data: unknown;
    try {
      data = parseYaml(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new PolicyFileError(`policy file ${path}: ${(err as Error).message}`);
    }
    if (data === null || data === undefined) return {};
    if (typeof data !== 'object' || Array.isArray(data)) throw new PolicyFileError(`policy file ${path}: not a mapping of rules`);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new PolicyFileError(`policy file ${path}: rule '${k}' is not a string`);
      out[k] = v;
    }
    return out;
  }

  /** Resolves [oslo_policy] policy_file: relative names are looked up beside the config files;
   * the default name may be absent, a configured one may not. */
  static locate(policyFile: string, configFiles: string[], isDefault: boolean): string | null {
    const candidates = isAbsolute(policyFile)
      ? [policyFile]
      : [
          ...configFiles.map((f) => resolve(dirname(f), policyFile)),
          resolve('/etc/neutrino', policyFile),
          resolve('/etc/neutron', policyFile),
        ];
    const found = candidates.find((p) => existsSync(p));
    if (!found && !isDefault)
      throw new PolicyFileError(`policy file ${policyFile} not found (looked in ${candidates.join(', ')})`);
    return found ?? null;
  }

  has(rule: string): boolean {
    return this.rules.has(rule);
  }

  check(rule: string, target: Target, creds: Creds): boolean {
    const c = this.rules.get(rule) ?? this.rules.get('default');
    if (!c) return false;
    try {
      return evaluate(c, target, creds, (n) => this.rules.get(n));
    } catch (err) {
      if (err instanceof PolicySyntaxError) return false;
      throw err;
    }
  }

  /** The verdict of `rule` when no target can change it, else undefined. */
  decided(rule: string, creds: Creds): boolean | undefined {
    const c = this.rules.get(rule) ?? this.rules.get('default');
    if (!c) return false;
    return decide(c, creds, (n) => this.rules.get(n));
  }

  forContext(ctx: Context): PolicyChecker {
    const creds: Creds = {
      project_id: ctx.projectId,
      tenant_id: ctx.projectId,
      user_id: ctx.userId,
      roles: ctx.roles,
      is_admin: ctx.isAdmin,
    };
    return {
      has: (rule) => this.has(rule),
      allows: (rule, target) => this.check(rule, target, creds),
      decided: (rule) => this.decided(rule, creds),
      enforce: (rule, target) => {
        if (!this.check(rule, target, creds)) throw policyNotAuthorized(rule);
      },
    };
  }
}
