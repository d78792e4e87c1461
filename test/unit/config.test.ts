// Configuration: neutron.conf-style INI files (later files override), CLI overrides, presets,
// strict option checking, and the database URL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig, opt, setOption } from '../../src/config/load.js';
import { OPTIONS } from '../../src/config/options.js';
import { DatabaseUrlError, parseDbUrl } from '../../src/db/connection.js';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'neutrino-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const path = join(dir, `f${n++}.conf`);
  writeFileSync(path, text);
  return path;
}

function throwsConfig(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${err}`);
    assert.match((err as Error).message, re);
    return true;
  });
}

describe('defaults', () => {
  test('every option has its Neutron default', () => {
    const cfg = loadConfig([]);
    assert.equal(cfg.DEFAULT.bind_host, '127.0.0.1');
    assert.equal(cfg.DEFAULT.bind_port, 9696);
    assert.equal(cfg.DEFAULT.auth_strategy, 'noauth');
    assert.equal(cfg.DEFAULT.base_mac, 'fa:16:3e:00:00:00');
    assert.equal(cfg.DEFAULT.max_allowed_address_pair, 10);
    assert.equal(cfg.DEFAULT.allow_bulk, true);
    assert.equal(cfg.DEFAULT.pagination_max_limit, -1);
    assert.deepEqual(cfg.DEFAULT.service_plugins, []);
    assert.equal(cfg.database.connection, null);
    assert.deepEqual(cfg.ml2.tenant_network_types, ['vxlan']);
    assert.deepEqual(cfg.ml2_type_vxlan.vni_ranges, ['1:1000']);
    for (const [section, opts] of Object.entries(OPTIONS)) {
      for (const [name, def] of Object.entries(opts)) assert.deepEqual(cfg[section][name], def.default, `[${section}] ${name}`);
    }
  });
});

describe('INI files', () => {
  test('values are typed: int, port, bool, list, string', () => {
    const cfg = loadConfig([
      file(`[DEFAULT]
# a comment
; another
bind_host = 0.0.0.0
bind_port = 9797
debug = True
allow_bulk = off
service_plugins = router, qos ,, metering
api_workers = 4
transport_url = rabbit://guest:guest@127.0.0.1:5672/

[database]
connection = postgresql://neutron:secret@127.0.0.1/neutron?sslmode=disable

[ml2_type_vxlan]
vni_ranges = 1:1000,2000:3000
`),
    ]);
    assert.equal(opt.str(cfg, 'DEFAULT', 'bind_host'), '0.0.0.0');
    assert.equal(opt.int(cfg, 'DEFAULT', 'bind_port'), 9797);
    assert.equal(opt.bool(cfg, 'DEFAULT', 'debug'), true);
    assert.equal(opt.bool(cfg, 'DEFAULT', 'allow_bulk'), false);
    assert.deepEqual(opt.list(cfg, 'DEFAULT', 'service_plugins'), ['router', 'qos', 'metering']);
    assert.equal(opt.int(cfg, 'DEFAULT', 'api_workers'), 4);
    assert.equal(opt.str(cfg, 'DEFAULT', 'transport_url'), 'rabbit://guest:guest@127.0.0.1:5672/');
    assert.equal(opt.str(cfg, 'database', 'connection'), 'postgresql://neutron:secret@127.0.0.1/neutron?sslmode=disable');
    assert.deepEqual(opt.list(cfg, 'ml2_type_vxlan', 'vni_ranges'), ['1:1000', '2000:3000']);
    // Untouched options keep their defaults.
    assert.equal(cfg.DEFAULT.base_mac, 'fa:16:3e:00:00:00');
  });

  test('booleans in every spelling oslo.config takes', () => {
    for (const [text, want] of [
      ['true', true],
      ['True', true],
      ['1', true],
      ['yes', true],
      ['on', true],
      ['false', false],
      ['FALSE', false],
      ['0', false],
      ['no', false],
      ['off', false],
    ] as const) {
      const cfg = loadConfig([file(`[DEFAULT]\ndebug = ${text}\n`)]);
      assert.equal(cfg.DEFAULT.debug, want, text);
    }
  });

  test('later files override earlier ones, option by option', () => {
    const a = file('[DEFAULT]\nbind_port = 1000\nbind_host = 10.0.0.1\n[database]\nconnection = sqlite://\n');
    const b = file('[DEFAULT]\nbind_port = 2000\n');
    const cfg = loadConfig([a, b]);
    assert.equal(cfg.DEFAULT.bind_port, 2000);
    assert.equal(cfg.DEFAULT.bind_host, '10.0.0.1');
    assert.equal(cfg.database.connection, 'sqlite://');
    assert.equal(loadConfig([b, a]).DEFAULT.bind_port, 1000);
  });

  test('an empty value means the default for a nullable string', () => {
    const cfg = loadConfig([file('[DEFAULT]\nhost =\n[database]\nconnection =\n')]);
    assert.equal(cfg.DEFAULT.host, null);
    assert.equal(cfg.database.connection, null);
  });

  test('unknown section or option → ConfigError naming the file', () => {
    const f1 = file('[DEFAULT]\nbind_port = 1\n[nonsense]\nx = 1\n');
    throwsConfig(() => loadConfig([f1]), new RegExp(`${f1}.*unknown section \\[nonsense\\]`));
    const f2 = file('[DEFAULT]\nbind_prot = 1\n');
    throwsConfig(() => loadConfig([f2]), /unknown option 'bind_prot' in section \[DEFAULT\]/);
    const f3 = file('[database]\nconection = sqlite://\n');
    throwsConfig(() => loadConfig([f3]), /unknown option 'conection' in section \[database\]/);
  });

  test('an option before any section → ConfigError', () => {
    throwsConfig(() => loadConfig([file('bind_port = 1\n[DEFAULT]\n')]), /before any \[section\]/);
  });

  test('bad int, port, bool or choice → ConfigError', () => {
    throwsConfig(
      () => loadConfig([file('[DEFAULT]\napi_workers = many\n')]),
      /\[DEFAULT\] api_workers: 'many' is not an integer/,
    );
    throwsConfig(() => loadConfig([file('[DEFAULT]\napi_workers = 1.5\n')]), /is not an integer/);
    throwsConfig(() => loadConfig([file('[DEFAULT]\napi_workers = 0\n')]), /0 is below the minimum 1/);
    throwsConfig(() => loadConfig([file('[DEFAULT]\nbind_port = 70000\n')]), /70000 is above the maximum 65535/);
    throwsConfig(() => loadConfig([file('[DEFAULT]\nbind_port = -1\n')]), /below the minimum 0/);
    throwsConfig(() => loadConfig([file('[DEFAULT]\ndebug = maybe\n')]), /\[DEFAULT\] debug: 'maybe' is not a boolean/);
    throwsConfig(() => loadConfig([file('[DEFAULT]\nauth_strategy = ldap\n')]), /'ldap' is not one of noauth, keystone/);
    throwsConfig(() => loadConfig([file('[ml2]\noverlay_ip_version = 5\n')]), /'5' is not one of 4, 6/);
  });

  test('a missing file → ConfigError', () => {
    throwsConfig(() => loadConfig([join(dir, 'does-not-exist.conf')]), /cannot read config file/);
  });
});

describe('overrides and presets', () => {
  test('CLI overrides beat files; files beat presets; presets beat defaults', () => {
    const f = file('[DEFAULT]\nbind_port = 2000\nbind_host = 10.0.0.2\n');
    const cfg = loadConfig(
      [f],
      [['DEFAULT', 'bind_port', '3000']],
      [
        ['DEFAULT', 'bind_port', 1000],
        ['DEFAULT', 'debug', true],
        ['database', 'connection', 'sqlite:////tmp/x.sqlite'],
      ],
    );
    assert.equal(cfg.DEFAULT.bind_port, 3000);
    assert.equal(cfg.DEFAULT.bind_host, '10.0.0.2');
    assert.equal(cfg.DEFAULT.debug, true);
    assert.equal(cfg.database.connection, 'sqlite:////tmp/x.sqlite');
    const presetsOnly = loadConfig([], [], [['DEFAULT', 'bind_port', 1000]]);
    assert.equal(presetsOnly.DEFAULT.bind_port, 1000);
  });

  test('overrides are validated like file values', () => {
    throwsConfig(() => loadConfig([], [['DEFAULT', 'bind_port', 'http']]), /'http' is not an integer/);
    throwsConfig(() => loadConfig([], [['nowhere', 'x', '1']]), /unknown section \[nowhere\]/);
    throwsConfig(() => loadConfig([], [], [['DEFAULT', 'nothing', '1']]), /unknown option 'nothing'/);
    assert.equal(loadConfig([], [['DEFAULT', 'debug', true]]).DEFAULT.debug, true);
    assert.deepEqual(loadConfig([], [['DEFAULT', 'service_plugins', ['router']]]).DEFAULT.service_plugins, ['router']);
  });

  test('setOption changes one value in place', () => {
    const cfg = loadConfig([]);
    setOption(cfg, 'DEFAULT', 'bind_port', '8080');
    assert.equal(cfg.DEFAULT.bind_port, 8080);
    throwsConfig(() => setOption(cfg, 'DEFAULT', 'bind_port', 'x'), /not an integer/);
    assert.equal(cfg.DEFAULT.bind_port, 8080);
  });
});

describe('database URL', () => {
  test('SQLite: memory, relative and absolute paths, driver suffixes', () => {
    assert.deepEqual(parseDbUrl('sqlite://'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseDbUrl('sqlite:///'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseDbUrl('sqlite:///:memory:'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseDbUrl('sqlite:///var/neutron.sqlite'), { dialect: 'sqlite', path: 'var/neutron.sqlite' });
    assert.deepEqual(parseDbUrl('sqlite:////var/lib/neutron/neutron.sqlite'), {
      dialect: 'sqlite',
      path: '/var/lib/neutron/neutron.sqlite',
    });
    assert.deepEqual(parseDbUrl('SQLite+pysqlite:////tmp/a.db'), { dialect: 'sqlite', path: '/tmp/a.db' });
  });

  test('PostgreSQL: scheme aliases and driver suffixes normalised', () => {
    assert.deepEqual(parseDbUrl('postgresql://u:p@127.0.0.1:5432/neutron'), {
      dialect: 'postgresql',
      url: 'postgresql://u:p@127.0.0.1:5432/neutron',
    });
    assert.deepEqual(parseDbUrl('postgresql+psycopg2://u@h/db'), { dialect: 'postgresql', url: 'postgresql://u@h/db' });
    assert.deepEqual(parseDbUrl('postgres://u@h/db'), { dialect: 'postgresql', url: 'postgresql://u@h/db' });
  });

  test('anything else → DatabaseUrlError', () => {
    for (const [url, re] of [
      ['mysql+pymysql://u:p@h/neutron', /unsupported database 'mysql'/],
      ['not a url', /is not a database URL/],
      ['', /is not a database URL/],
      ['sqlite://host/path', /has a host/],
    ] as const) {
      assert.throws(
        () => parseDbUrl(url),
        (err: unknown) => err instanceof DatabaseUrlError && re.test((err as Error).message),
        url,
      );
    }
  });
});
