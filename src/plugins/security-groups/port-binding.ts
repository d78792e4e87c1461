// The `security_groups` attribute of ports: the project's default group when none is named
// (for ports with port security, not network:* ports), named groups checked, and the rules
// tying it to port_security_enabled.
import { errors, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { EB } from '../../db/store.js';
import { UNSET } from '../../resources/types.js';
import type { Context } from '../context.js';
import type { PortExtension } from '../core/ports.js';
import type { Dict } from '../service.js';
import type { SecurityGroupService } from './groups.js';

export class PortSecurityGroups implements PortExtension {
  readonly attributes = ['security_groups'];

  constructor(private groups: SecurityGroupService) {}

  readonly filters = {
    security_groups: (eb: EB, values: unknown[]) =>
      eb(
        'ports.id',
        'in',
        eb
          .selectFrom('securitygroupportbindings')
          .select('securitygroupportbindings.port_id')
          .where('securitygroupportbindings.security_group_id', 'in', values as string[]),
      ),
  };

  /** The named groups, each visible to the caller, all stateful or all stateless (Neutron's
   * _validate_sgs_for_port). */
  private async checkVisible(db: DB, ctx: Context, ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const stateful = new Set<boolean>();
    for (const id of unique) stateful.add(Boolean((await this.groups.visible(db, ctx, id)).stateful));
    if (stateful.size > 1) {
      throw new NeutronError(
        'SecurityGroupConflict',
        409,
        'Error Cannot apply both stateful and stateless security groups on the same port at the same time while attempting the operation.',
      );
    }
    return unique;
  }

  private async bind(db: DB, portId: string, ids: string[], replace = true): Promise<void> {
    if (replace) await db.deleteFrom('securitygroupportbindings').where('port_id', '=', portId).execute();
    if (ids.length) {
      await db
        .insertInto('securitygroupportbindings')
        .values(ids.map((id) => ({ port_id: portId, security_group_id: id })))
        .execute();
    }
  }

  /** Binds the project's default group in one statement when it exists (the usual case). */
  private async bindDefault(db: DB, port: Dict): Promise<boolean> {
    const r = await db
      .insertInto('securitygroupportbindings')
      .columns(['port_id', 'security_group_id'])
      .expression((eb) =>
        eb
          .selectFrom('default_security_groups')
          .select([eb.val(port.id as string).as('port_id'), 'security_group_id'])
          .where('project_id', '=', port.project_id as string),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async processCreate(db: DB, ctx: Context, port: Dict, item: Dict): Promise<void> {
    const asked = item.security_groups;
    let ids: string[];
    if (asked === UNSET || asked === undefined) {
      const automatic = port.port_security_enabled === true && !(port.device_owner as string).startsWith('network:');
      if (automatic && (await this.bindDefault(db, port))) return;
      ids = automatic ? [await this.groups.ensureDefault(db, port.project_id as string)] : [];
    } else {
      ids = await this.checkVisible(db, ctx, asked as string[]);
      if (ids.length && port.port_security_enabled !== true) throw errors.portSecurityAndIpRequiredForSecurityGroups();
    }
    await this.bind(db, port.id as string, ids, false);
  }

  async processUpdate(db: DB, ctx: Context, port: Dict, changes: Dict): Promise<void> {
    const security = (changes.port_security_enabled ?? port.port_security_enabled) as boolean;
    if ('security_groups' in changes) {
      const ids = await this.checkVisible(db, ctx, changes.security_groups as string[]);
      if (ids.length && !security) {
        throw changes.port_security_enabled === false ? hasGroups() : errors.portSecurityAndIpRequiredForSecurityGroups();
      }
      await this.bind(db, port.id as string, ids);
    } else if (changes.port_security_enabled === false && (port.security_groups as string[]).length) {
      throw hasGroups();
    }
  }

  async extend(db: DB, ports: Dict[]): Promise<void> {
    const byPort = await this.groups.ofPorts(
      db,
      ports.map((p) => p.id as string),
    );
    for (const p of ports) p.security_groups = byPort.get(p.id as string) ?? [];
  }
}

const hasGroups = () =>
  new NeutronError(
    'PortSecurityPortHasSecurityGroup',
    409,
    'Port has security group associated. Cannot disable port security or ip address until security group is removed',
  );
