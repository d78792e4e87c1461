// The noop firewall driver (Neutron's `noop`): no port security, no security groups. It removes the
// tables an nftables driver left behind, so switching drivers does not leave stale filtering.
import { Nft, type Runner } from '../../system/index.js';
import { TABLE } from './compiler.js';
import type { FirewallDriver, FirewallResult } from './types.js';

export class NoopFirewall implements FirewallDriver {
  readonly enforces = false;
  private readonly nft: Nft;
  private clean = false;

  constructor(
    readonly name: string,
    o: { namespace?: string; run?: Runner } = {},
  ) {
    this.nft = new Nft({ netns: o.namespace, run: o.run });
  }

  async apply(): Promise<FirewallResult> {
    if (this.clean) return { changed: false, conntrackDeleted: 0 };
    this.clean = true;
    // Without nft (not installed) there is nothing to clean: noop needs no tool.
    const handles = await this.nft.tableHandles().catch(() => new Map<string, number>());
    const stale = ['bridge', 'inet'].filter((f) => handles.has(`${f} ${TABLE}`));
    for (const family of stale) await this.nft.deleteTable(family, TABLE);
    return { changed: stale.length > 0, conntrackDeleted: 0 };
  }
}
