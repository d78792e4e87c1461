// Reads neutron.conf-style INI files (later files override earlier ones), then command-line
// overrides, into a typed, validated configuration.
import { readFileSync } from 'node:fs';
import { parse } from 'ini';
import { OPTIONS, type OptionDef } from './options.js';

export type Config = Record<string, Record<string, unknown>>;

export class ConfigError extends Error {}

function coerce(section: string, name: string, def: OptionDef, raw: unknown): unknown {
  const where = `[${section}] ${name}`;
  if (raw === null || raw === undefined) return def.default;
  const text = String(raw).trim();
  switch (def.type) {
    case 'string':
    case 'url': {
      if (def.choices && !def.choices.includes(text)) {
        throw new ConfigError(`${where}: '${text}' is not one of ${def.choices.join(', ')}`);
      }
      return text === '' && def.default === null ? null : text;
    }
    case 'int':
    case 'port': {
      if (!/^-?\d+$/.test(text)) throw new ConfigError(`${where}: '${text}' is not an integer`);
      const n = Number(text);
      const min = def.type === 'port' ? 0 : def.min;
      const max = def.type === 'port' ? 65535 : def.max;
      if (min !== undefined && n < min) throw new ConfigError(`${where}: ${n} is below the minimum ${min}`);
      if (max !== undefined && n > max) throw new ConfigError(`${where}: ${n} is above the maximum ${max}`);
      if (def.choices && !def.choices.includes(text)) {
        throw new ConfigError(`${where}: '${text}' is not one of ${def.choices.join(', ')}`);
      }
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const t = text.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
      throw new ConfigError(`${where}: '${text}' is not a boolean`);
    }
    case 'list':
      return Array.isArray(raw)
        ? raw.map(String)
        : text
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
  }
}

function defaults(): Config {
  const cfg: Config = {};
  for (const [section, opts] of Object.entries(OPTIONS)) {
    cfg[section] = {};
    for (const [name, def] of Object.entries(opts)) cfg[section][name] = def.default;
  }
  return cfg;
}

/** Applies one section/option value, validating it against the catalogue. */
export function setOption(cfg: Config, section: string, name: string, raw: unknown): void {
  const opts = OPTIONS[section];
  if (!opts) throw new ConfigError(`unknown section [${section}]`);
  const def = opts[name];
  if (!def) throw new ConfigError(`unknown option '${name}' in section [${section}]`);
  cfg[section][name] = coerce(section, name, def, raw);
}

const FILES = new WeakMap<Config, string[]>();

/** The config files a configuration was read from (to find files named relative to them). */
export const configFilesOf = (cfg: Config): string[] => FILES.get(cfg) ?? [];

/** `presets` replace built-in defaults (all-in-one's embedded ones); files override them, then `overrides`. */
export function loadConfig(
  files: string[],
  overrides: Array<[string, string, unknown]> = [],
  presets: Array<[string, string, unknown]> = [],
): Config {
  const cfg = defaults();
  for (const [section, name, value] of presets) setOption(cfg, section, name, value);
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    const parsed = parse(text) as Record<string, unknown>;
    for (const [key, value] of Object.entries(parsed)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
          try {
            setOption(cfg, key, name, v);
          } catch (err) {
            throw new ConfigError(`${file}: ${(err as Error).message}`);
          }
        }
      } else {
        throw new ConfigError(`${file}: option '${key}' appears before any [section]`);
      }
    }
  }
  for (const [section, name, value] of overrides) setOption(cfg, section, name, value);
  FILES.set(cfg, [...files]);
  return cfg;
}

/** Typed accessors, so callers do not cast at every use. */
export const opt = {
  str: (cfg: Config, s: string, n: string) => cfg[s][n] as string,
  strOrNull: (cfg: Config, s: string, n: string) => cfg[s][n] as string | null,
  int: (cfg: Config, s: string, n: string) => cfg[s][n] as number,
  bool: (cfg: Config, s: string, n: string) => cfg[s][n] as boolean,
  list: (cfg: Config, s: string, n: string) => cfg[s][n] as string[],
};
