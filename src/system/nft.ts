// nftables: a whole table replaced in one atomic `nft -f -` transaction (packets see either the
// old or the new rules, never none), and the tables read back as JSON, optionally in a namespace.
import { check, execRunner, type Runner, SystemError } from './exec.js';
import { inNetns } from './netns.js';
import { type NftTableState, parseListings } from './nft-ruleset.js';
import * as v from './validate.js';

export interface NftTable {
  family: string;
  name: string;
  handle: number;
  comment?: string;
}

export class Nft {
  readonly netns?: string;
  private readonly run: Runner;

  constructor({ netns, run = execRunner }: { netns?: string; run?: Runner } = {}) {
    this.netns = netns === undefined || netns === '' ? undefined : v.netns(netns);
    this.run = run;
  }

  private exec(args: string[], input?: string): Promise<string> {
    const [file, argv] = inNetns(this.netns, 'nft', args);
    return check(this.run, file, argv, { input });
  }

  async tables(): Promise<NftTable[]> {
    const out = JSON.parse(await this.exec(['-j', 'list', 'tables'])) as { nftables: Array<{ table?: NftTable }> };
    return out.nftables.flatMap((e) => (e.table ? [e.table] : []));
  }

  /** The comment of a table, '' when it has none, undefined when it does not exist. (Read from the
   * text listing: nft 1.0's JSON leaves table comments out.) */
  async tableComment(family: string, name: string): Promise<string | undefined> {
    const [file, argv] = inNetns(this.netns, 'nft', ['-t', 'list', 'table', v.token(family), v.token(name)]);
    const r = await this.run(file, argv);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return undefined;
      throw new SystemError(`nft list table ${family} ${name}`, r.code, r.stderr);
    }
    return /^\s*comment "([^"]*)"/m.exec(r.stdout)?.[1] ?? '';
  }

  /** Replaces table `family name` with `body` (its chains, sets and rules) in one transaction;
   * `comment` (a checked token) is stored on the table, e.g. a hash to compare with next time. */
  async replaceTable(family: string, name: string, body: string, comment?: string): Promise<void> {
    v.token(family);
    v.token(name);
    const text = [
      `add table ${family} ${name}`,
      `delete table ${family} ${name}`,
      `table ${family} ${name} {`,
      ...(comment ? [`  comment "${v.token(comment)}"`] : []),
      body,
      '}',
      '',
    ].join('\n');
    await this.exec(['-f', '-'], text);
  }

  /** Every table's handle by 'family name' (a table deleted and created again has a new handle). */
  async tableHandles(): Promise<Map<string, number>> {
    return new Map((await this.tables()).map((t) => [`${t.family} ${t.name}`, t.handle]));
  }

  /** The handle of set `name` of a table, undefined when it (or the table) does not exist. Cheap
   * whatever the size of the ruleset, unlike `list tables`, which makes nft 1.0 read every rule. */
  async setHandle(family: string, table: string, name: string): Promise<number | undefined> {
    const [file, argv] = inNetns(this.netns, 'nft', ['-j', 'list', 'set', v.token(family), v.token(table), v.token(name)]);
    const r = await this.run(file, argv);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return undefined;
      throw new SystemError(`nft list set ${family} ${table} ${name}`, r.code, r.stderr);
    }
    const json = JSON.parse(r.stdout) as { nftables: Array<{ set?: { handle: number } }> };
    return json.nftables.find((e) => e.set)?.set?.handle;
  }

  /** What the kernel holds of `tables` ([family, name]): their chain names and set and map
   * elements (see nft-ruleset.ts), read without listing a single rule. A table that does not
   * exist is absent from the answer. */
  async readTables(tables: Array<[string, string]>): Promise<Map<string, NftTableState>> {
    const wanted = tables.map(([f, n]) => `${v.token(f)} ${v.token(n)}`);
    const sets = await Promise.all(
      tables.map(async ([f, n]) => {
        const [file, argv] = inNetns(this.netns, 'nft', ['-j', 'list', 'sets', 'table', f, n]);
        const r = await this.run(file, argv);
        if (r.code === 0) return { family: f, name: n, json: r.stdout };
        if (/No such file or directory/.test(r.stderr)) return undefined;
        throw new SystemError(`nft list sets table ${f} ${n}`, r.code, r.stderr);
      }),
    );
    const present = sets.filter((x) => x !== undefined);
    const families = [...new Set(present.map((t) => t.family))];
    const reads = await Promise.all(
      families.flatMap((f) => [this.exec(['-j', 'list', 'chains', f]), this.exec(['-j', 'list', 'maps', f])]),
    );
    // A table that exists is in the answer even when it holds nothing.
    const tablesJson = JSON.stringify({ nftables: present.map((t) => ({ table: { family: t.family, name: t.name } })) });
    return parseListings([tablesJson, ...present.map((t) => t.json), ...reads], wanted);
  }

  /** Runs an nft script (`nft -f -`): one transaction, all of it or nothing. */
  async apply(script: string): Promise<void> {
    if (script) await this.exec(['-f', '-'], script);
  }

  /** Removes the table if it exists. */
  async deleteTable(family: string, name: string): Promise<void> {
    await this.exec(['-f', '-'], `add table ${v.token(family)} ${v.token(name)}\ndelete table ${family} ${name}\n`);
  }
}
