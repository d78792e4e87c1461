// The nftables firewall driver: compiles the desired state (compiler.ts), diffs it against what the
// kernel holds and applies the difference in one `nft -f` transaction; nothing is written when
// nothing changed. What it applied is remembered, so a reconcile reads only each table's schema
// set (two cheap reads) to see that its tables are still the ones it wrote; after a restart, or when
// a table was deleted or recreated under it, it reads chain names and set elements back from the
// kernel. A change of group members or address group addresses alone recompiles nothing but the
// remote sets. Addresses that left a remote group or address group lose their tracked
// connections (conntrack -D in the zones of the ports that admitted them), as Neutron does: the
// rest of the conntrack table, and so every other established connection, is left alone.
import { Conntrack, diffRuleset, Nft, type NftTableState, type Runner, SCHEMA_SET, stateOf } from '../../system/index.js';
import { type CompiledFirewall, compileFirewall, hintsOf, newCompileCache, refreshRemoteSets, TABLE } from './compiler.js';
import type { FirewallDriver, FirewallPort, FirewallResult, FirewallState, HostSecurityGroup } from './types.js';

const TABLES: Array<[string, string]> = [
  ['bridge', TABLE],
  ['inet', TABLE],
];

/** More removed addresses than this at once: their zones' entries are deleted wholesale (tracked
 * connections still admitted are picked up again on their next packet). */
const MAX_CONNTRACK_CALLS = 256;

export interface NftablesDriverOptions {
  namespace?: string;
  run?: Runner;
  log?: (msg: string) => void;
}

export class NftablesFirewall implements FirewallDriver {
  readonly enforces = true;
  private readonly nft: Nft;
  private readonly conntrack: Conntrack;
  /** What the kernel holds, as last applied, and the handles of the tables then. */
  private cache?: { state: Map<string, NftTableState>; handles: Map<string, number> };
  /** The last script applied (tests and benchmarks read it). */
  lastScript = '';
  /** Unchanged ports are not compiled again. */
  private readonly compileCache = newCompileCache();
  /** The last compile and what it was of, so a change of addresses alone recompiles nothing else. */
  private last?: { ports: FirewallPort[]; groups: Record<string, HostSecurityGroup>; compiled: CompiledFirewall };

  constructor(
    readonly name: string,
    private readonly o: NftablesDriverOptions = {},
  ) {
    const tool = { netns: o.namespace, run: o.run };
    this.nft = new Nft(tool);
    this.conntrack = new Conntrack(tool);
  }

  /** Each table's identity: the handle of its schema set, which a table replaced or recreated
   * gets anew (two cheap reads; `nft list tables` would read the whole ruleset). */
  private async handles(): Promise<Map<string, number>> {
    const hs = await Promise.all(TABLES.map(([f, n]) => this.nft.setHandle(f, n, SCHEMA_SET)));
    return new Map(TABLES.flatMap(([f, n], i) => (hs[i] === undefined ? [] : [[`${f} ${n}`, hs[i] as number]])));
  }

  /** The kernel's state of our tables: the cache when the tables are still the ones written. */
  private async current(): Promise<{ state: Map<string, NftTableState>; handles: Map<string, number> }> {
    const handles = await this.handles();
    const c = this.cache;
    if (c && c.handles.size === handles.size && [...handles].every(([k, h]) => c.handles.get(k) === h)) return c;
    return { state: await this.nft.readTables(TABLES), handles };
  }

  async apply(s: FirewallState, opts: { refresh?: boolean } = {}): Promise<FirewallResult> {
    // A refresh trusts the cache: if the kernel changed under it, nft refuses the script (the
    // cache is then dropped) or the next reconcile, which checks, puts it right.
    const current = opts.refresh && this.cache ? this.cache : await this.current();
    const have = current.state;
    const l = this.last;
    // The same ports and the same group objects (only addresses changed), against the kernel as
    // this driver left it: the last compile holds, with its remote sets taken again.
    const onlyAddresses =
      l !== undefined &&
      current === this.cache &&
      l.ports === s.ports &&
      Object.keys(l.groups).length === Object.keys(s.security_groups).length &&
      Object.entries(s.security_groups).every(([id, g]) => l.groups[id] === g);
    const compiled = onlyAddresses
      ? refreshRemoteSets(l.compiled, s, this.compileCache)
      : compileFirewall(s, hintsOf(have), this.compileCache);
    this.last = { ports: s.ports, groups: s.security_groups, compiled };
    const drop = TABLES.filter(([f, n]) => !compiled.tables.some((t) => t.family === f && t.name === n));
    const script = diffRuleset(compiled.tables, have, drop);
    if (!script) return { changed: false, conntrackDeleted: 0 };
    try {
      await this.nft.apply(script);
    } catch (err) {
      this.cache = undefined;
      throw err;
    }
    this.lastScript = script;
    const next = new Map(compiled.tables.map((t) => [`${t.family} ${t.name}`, stateOf(t)]));
    // Tables created or replaced have new handles; after changes in place they are the same.
    const handles = /^(add|delete) table /m.test(script) ? await this.handles() : current.handles;
    this.cache = { state: next, handles };
    const conntrackDeleted = await this.cutRemoved(have, compiled.remoteSets).catch((err: Error) => {
      this.o.log?.(`conntrack cleanup failed: ${err.message}`);
      return 0;
    });
    return { changed: true, conntrackDeleted };
  }

  /** Deletes the tracked connections of addresses that left a remote set, in the zones of the
   * ports whose rules use the set (both directions: the address as source or destination). */
  private async cutRemoved(
    have: Map<string, NftTableState>,
    sets: Map<string, { elements: string[]; zones: Set<number> }>,
  ): Promise<number> {
    const before = have.get(`inet ${TABLE}`)?.sets;
    if (!before) return 0;
    const calls: Array<{ zone: number; addr: string }> = [];
    for (const [name, { elements, zones }] of sets) {
      const now = new Set(elements);
      for (const addr of before.get(name) ?? []) {
        if (now.has(addr)) continue;
        for (const zone of zones) calls.push({ zone, addr });
      }
    }
    if (calls.length === 0) return 0;
    let deleted = 0;
    if (calls.length * 2 > MAX_CONNTRACK_CALLS) {
      for (const zone of new Set(calls.map((c) => c.zone))) {
        for (const family of ['0.0.0.0/0', '::/0']) deleted += await this.conntrack.delete({ zone, src: family });
      }
      return deleted;
    }
    for (const { zone, addr } of calls) {
      deleted += await this.conntrack.delete({ zone, src: addr });
      deleted += await this.conntrack.delete({ zone, dst: addr });
    }
    return deleted;
  }
}
