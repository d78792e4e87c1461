// The Open_vSwitch database (ovs-vswitchd's configuration) through the OVSDB client: a replica of
// the bridges, ports and interfaces decoded into plain objects, and the changes the agents make
// (bridges, ports, tags, sFlow/NetFlow) as one transaction each. A transaction that changes what
// ovs-vswitchd must act on bumps next_cfg and waits until ovs-vswitchd reports it done (cur_cfg),
// as ovs-vsctl does, so new interfaces have their OpenFlow port numbers when it returns.
import { OvsdbClient, type ReplicaChange, type Row } from './client.js';
import { type Atom, map, namedUuid, optional, set, toMap, toOptional, toSet, uuid } from './data.js';
import type { Json } from './jsonrpc.js';

export interface OvsInterface {
  uuid: string;
  name: string;
  type: string;
  /** OpenFlow port number; null until ovs-vswitchd has one, -1 when it failed. */
  ofport: number | null;
  options: Record<string, string>;
  external_ids: Record<string, string>;
  error: string | null;
}

export interface OvsPort {
  uuid: string;
  name: string;
  interfaces: string[];
  tag: number | null;
  other_config: Record<string, string>;
  external_ids: Record<string, string>;
}

export interface OvsSflow {
  targets: string[];
  sampling: number | null;
  polling: number | null;
  header: number | null;
  agent: string | null;
}

export interface OvsNetflow {
  targets: string[];
  active_timeout: number;
}

export interface OvsBridge {
  uuid: string;
  name: string;
  ports: string[];
  datapath_type: string;
  fail_mode: string | null;
  protocols: string[];
  other_config: Record<string, string>;
  sflow: OvsSflow | null;
  netflow: OvsNetflow | null;
}

/** The decoded replica at one moment. */
export interface OvsSnapshot {
  bridges: Map<string, OvsBridge>;
  /** Ports by name. */
  ports: Map<string, OvsPort>;
  /** Interfaces by name. */
  interfaces: Map<string, OvsInterface>;
  /** Port name → its bridge's name. */
  portBridge: Map<string, string>;
  curCfg: number;
  nextCfg: number;
}

const TABLES: Record<string, string[]> = {
  Open_vSwitch: ['bridges', 'cur_cfg', 'next_cfg'],
  Bridge: ['name', 'ports', 'datapath_type', 'fail_mode', 'protocols', 'other_config', 'sflow', 'netflow'],
  Port: ['name', 'interfaces', 'tag', 'other_config', 'external_ids'],
  Interface: ['name', 'type', 'ofport', 'options', 'external_ids', 'error'],
  sFlow: ['targets', 'sampling', 'polling', 'header', 'agent'],
  NetFlow: ['targets', 'active_timeout'],
};

/** A change to make, in the agents' terms. */
export type VsOp =
  | { op: 'addBridge'; name: string; datapathType: string; failMode?: string; protocols?: string[] }
  | { op: 'setBridge'; name: string; datapathType?: string; failMode?: string | null; protocols?: string[] }
  | {
      op: 'addPort';
      bridge: string;
      name: string;
      type?: string;
      options?: Record<string, string>;
      externalIds?: Record<string, string>;
      tag?: number | null;
      otherConfig?: Record<string, string>;
    }
  | { op: 'delPort'; bridge: string; name: string }
  | { op: 'setPort'; name: string; tag?: number | null; otherConfig?: Record<string, string> }
  | { op: 'setInterface'; name: string; options?: Record<string, string>; externalIds?: Record<string, string> }
  | { op: 'setSflow'; bridge: string; sflow: OvsSflow | null }
  | { op: 'setNetflow'; bridge: string; netflow: OvsNetflow | null };

const num = (v: Atom | null): number | null => (v === null ? null : Number(v));

export function decodeSnapshot(rows: (table: string) => ReadonlyMap<string, Row>): OvsSnapshot {
  const interfacesByUuid = new Map<string, OvsInterface>();
  for (const [id, r] of rows('Interface')) {
    interfacesByUuid.set(id, {
      uuid: id,
      name: String(r.name),
      type: String(r.type ?? ''),
      ofport: num(optional(r.ofport)),
      options: map(r.options),
      external_ids: map(r.external_ids),
      error: optional<string>(r.error),
    });
  }
  const portsByUuid = new Map<string, OvsPort>();
  for (const [id, r] of rows('Port')) {
    portsByUuid.set(id, {
      uuid: id,
      name: String(r.name),
      interfaces: set(r.interfaces).map(String),
      tag: num(optional(r.tag)),
      other_config: map(r.other_config),
      external_ids: map(r.external_ids),
    });
  }
  const sflows = new Map<string, OvsSflow>();
  for (const [id, r] of rows('sFlow')) {
    sflows.set(id, {
      targets: set(r.targets).map(String).sort(),
      sampling: num(optional(r.sampling)),
      polling: num(optional(r.polling)),
      header: num(optional(r.header)),
      agent: optional<string>(r.agent),
    });
  }
  const netflows = new Map<string, OvsNetflow>();
  for (const [id, r] of rows('NetFlow')) {
    netflows.set(id, { targets: set(r.targets).map(String).sort(), active_timeout: Number(r.active_timeout ?? 0) });
  }
  const bridges = new Map<string, OvsBridge>();
  const portBridge = new Map<string, string>();
  for (const [id, r] of rows('Bridge')) {
    const b: OvsBridge = {
      uuid: id,
      name: String(r.name),
      ports: set(r.ports).map(String),
      datapath_type: String(r.datapath_type ?? ''),
      fail_mode: optional<string>(r.fail_mode),
      protocols: set(r.protocols).map(String).sort(),
      other_config: map(r.other_config),
      sflow: sflows.get(String(optional(r.sflow))) ?? null,
      netflow: netflows.get(String(optional(r.netflow))) ?? null,
    };
    bridges.set(b.name, b);
    for (const p of b.ports) {
      const port = portsByUuid.get(p);
      if (port) portBridge.set(port.name, b.name);
    }
  }
  const root = [...rows('Open_vSwitch').values()][0] ?? {};
  return {
    bridges,
    ports: new Map([...portsByUuid.values()].map((p) => [p.name, p])),
    interfaces: new Map([...interfacesByUuid.values()].map((i) => [i.name, i])),
    portBridge,
    curCfg: Number(root.cur_cfg ?? 0),
    nextCfg: Number(root.next_cfg ?? 0),
  };
}

const byName = (name: string): Json => [['name', '==', name]];

/** The OVSDB operations of `ops` (named uuids are unique per op), given the current snapshot for
 * the uuids deletions need. */
export function encodeOps(ops: readonly VsOp[], snap: OvsSnapshot): Json[] {
  const out: Json[] = [];
  ops.forEach((o, i) => {
    switch (o.op) {
      case 'addBridge': {
        // As `ovs-vsctl add-br`: the bridge, its local (internal) port, and the root's reference.
        const [b, p, f] = [`br${i}`, `brp${i}`, `bri${i}`];
        out.push(
          { op: 'insert', table: 'Interface', row: { name: o.name, type: 'internal' }, 'uuid-name': f },
          { op: 'insert', table: 'Port', row: { name: o.name, interfaces: namedUuid(f) }, 'uuid-name': p },
          {
            op: 'insert',
            table: 'Bridge',
            row: {
              name: o.name,
              ports: namedUuid(p),
              datapath_type: o.datapathType,
              fail_mode: toOptional(o.failMode),
              protocols: toSet(o.protocols ?? []),
            },
            'uuid-name': b,
          },
          { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', toSet([namedUuid(b)])]] },
        );
        break;
      }
      case 'setBridge': {
        const row: Record<string, Json> = {};
        if (o.datapathType !== undefined) row.datapath_type = o.datapathType;
        if (o.failMode !== undefined) row.fail_mode = toOptional(o.failMode);
        if (o.protocols !== undefined) row.protocols = toSet(o.protocols);
        out.push({ op: 'update', table: 'Bridge', where: byName(o.name), row });
        break;
      }
      case 'addPort': {
        const [p, f] = [`p${i}`, `i${i}`];
        const iface: Record<string, Json> = { name: o.name };
        if (o.type) iface.type = o.type;
        if (o.options) iface.options = toMap(o.options);
        if (o.externalIds) iface.external_ids = toMap(o.externalIds);
        const port: Record<string, Json> = { name: o.name, interfaces: namedUuid(f) };
        if (o.tag !== undefined) port.tag = toOptional(o.tag);
        if (o.otherConfig) port.other_config = toMap(o.otherConfig);
        out.push(
          { op: 'insert', table: 'Interface', row: iface, 'uuid-name': f },
          { op: 'insert', table: 'Port', row: port, 'uuid-name': p },
          { op: 'mutate', table: 'Bridge', where: byName(o.bridge), mutations: [['ports', 'insert', toSet([namedUuid(p)])]] },
        );
        break;
      }
      case 'delPort': {
        const port = snap.ports.get(o.name);
        if (!port) break;
        out.push({
          op: 'mutate',
          table: 'Bridge',
          where: byName(o.bridge),
          mutations: [['ports', 'delete', toSet([uuid(port.uuid)])]],
        });
        break;
      }
      case 'setPort': {
        const row: Record<string, Json> = {};
        if (o.tag !== undefined) row.tag = toOptional(o.tag);
        if (o.otherConfig !== undefined) row.other_config = toMap(o.otherConfig);
        out.push({ op: 'update', table: 'Port', where: byName(o.name), row });
        break;
      }
      case 'setInterface': {
        const row: Record<string, Json> = {};
        if (o.options !== undefined) row.options = toMap(o.options);
        if (o.externalIds !== undefined) row.external_ids = toMap(o.externalIds);
        out.push({ op: 'update', table: 'Interface', where: byName(o.name), row });
        break;
      }
      case 'setSflow': {
        if (!o.sflow) {
          out.push({ op: 'update', table: 'Bridge', where: byName(o.bridge), row: { sflow: toSet([]) } });
          break;
        }
        const s = o.sflow;
        out.push(
          {
            op: 'insert',
            table: 'sFlow',
            row: {
              targets: toSet(s.targets),
              sampling: toOptional(s.sampling),
              polling: toOptional(s.polling),
              header: toOptional(s.header),
              agent: toOptional(s.agent),
            },
            'uuid-name': `sf${i}`,
          },
          { op: 'update', table: 'Bridge', where: byName(o.bridge), row: { sflow: namedUuid(`sf${i}`) } },
        );
        break;
      }
      case 'setNetflow': {
        if (!o.netflow) {
          out.push({ op: 'update', table: 'Bridge', where: byName(o.bridge), row: { netflow: toSet([]) } });
          break;
        }
        out.push(
          {
            op: 'insert',
            table: 'NetFlow',
            row: { targets: toSet(o.netflow.targets), active_timeout: o.netflow.active_timeout },
            'uuid-name': `nf${i}`,
          },
          { op: 'update', table: 'Bridge', where: byName(o.bridge), row: { netflow: namedUuid(`nf${i}`) } },
        );
        break;
      }
    }
  });
  return out;
}

export interface VSwitchOptions {
  timeoutMs?: number;
  probeMs?: number;
  log?: (msg: string) => void;
}

export class VSwitch {
  readonly db: OvsdbClient;

  constructor(
    target: string,
    private readonly o: VSwitchOptions = {},
  ) {
    this.db = new OvsdbClient(target, { database: 'Open_vSwitch', tables: TABLES, ...o });
  }

  start(): Promise<void> {
    return this.db.start();
  }

  snapshot(): OvsSnapshot {
    return decodeSnapshot((t) => this.db.rows(t));
  }

  subscribe(fn: (c: ReplicaChange) => void): () => void {
    return this.db.subscribe(fn);
  }

  /** Applies `ops` in one transaction (with `comment` in ovsdb-server's log) and, when `wait`,
   * waits until ovs-vswitchd has acted on it. */
  async apply(ops: readonly VsOp[], { wait = true, comment }: { wait?: boolean; comment?: string } = {}): Promise<void> {
    if (ops.length === 0) return;
    const encoded = encodeOps(ops, this.snapshot());
    if (comment) encoded.unshift({ op: 'comment', comment });
    if (!wait) {
      await this.db.transact(encoded);
      return;
    }
    encoded.push(
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
      { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] },
    );
    const results = await this.db.transact(encoded);
    const selected = results[encoded.length - 1] as { rows: Array<{ next_cfg: number }> };
    const target = selected.rows[0].next_cfg;
    await this.db.waitFor(
      () => this.curCfg() >= target,
      this.o.timeoutMs ?? 10_000,
      `ovs-vswitchd applying configuration ${target} (is ovs-vswitchd running?)`,
    );
  }

  /** ovs-vswitchd's last applied configuration, read straight from the replica. */
  private curCfg(): number {
    const root = [...this.db.rows('Open_vSwitch').values()][0];
    return Number(root?.cur_cfg ?? 0);
  }

  close(): void {
    this.db.close();
  }
}
