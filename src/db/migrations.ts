// Versioned schema migrations. Each migration is written once with Kysely's schema builder so it
// runs on SQLite and PostgreSQL alike; `neutrino db upgrade` applies the pending ones in order.
import { randomUUID } from 'node:crypto';
import { type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { DB } from './connection.js';

// biome-ignore lint/suspicious/noExplicitAny: schema building is untyped by nature
type K = Kysely<any>;

/** Columns every standard-attribute resource carries. */
function standard<T extends string, C extends string>(t: CreateTableBuilder<T, C>) {
  return t
    .addColumn('description', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('revision_number', 'bigint', (c) => c.notNull().defaultTo(0));
}

const m001: Migration = {
  async up(db: K) {
    await standard(
      db.schema
        .createTable('address_scopes')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('shared', 'boolean', (c) => c.notNull()),
    ).execute();

    await standard(
      db.schema
        .createTable('subnetpools')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('default_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('min_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('max_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('default_quota', 'integer')
        .addColumn('address_scope_id', 'varchar(36)', (c) => c.references('address_scopes.id'))
        .addColumn('is_default', 'boolean', (c) => c.notNull())
        .addColumn('shared', 'boolean', (c) => c.notNull())
        .addColumn('prefixes', 'text', (c) => c.notNull()),
    ).execute();

    await standard(
      db.schema
        .createTable('networks')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('admin_state_up', 'boolean', (c) => c.notNull())
        .addColumn('shared', 'boolean', (c) => c.notNull())
        .addColumn('router_external', 'boolean', (c) => c.notNull())
        .addColumn('mtu', 'integer', (c) => c.notNull())
        .addColumn('port_security_enabled', 'boolean', (c) => c.notNull()),
    ).execute();

    await standard(
      db.schema
        .createTable('subnets')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('networks.id'))
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
        .addColumn('gateway_ip', 'varchar(64)')
        .addColumn('allocation_pools', 'text', (c) => c.notNull())
        .addColumn('dns_nameservers', 'text', (c) => c.notNull())
        .addColumn('host_routes', 'text', (c) => c.notNull())
        .addColumn('enable_dhcp', 'boolean', (c) => c.notNull())
        .addColumn('ipv6_ra_mode', 'varchar(32)')
        .addColumn('ipv6_address_mode', 'varchar(32)')
        .addColumn('subnetpool_id', 'varchar(36)', (c) => c.references('subnetpools.id'))
        .addColumn('segment_id', 'varchar(36)')
        .addColumn('service_types', 'text', (c) => c.notNull())
        .addColumn('dns_publish_fixed_ip', 'boolean', (c) => c.notNull().defaultTo(false)),
    ).execute();

    await standard(
      db.schema
        .createTable('ports')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('networks.id'))
        .addColumn('mac_address', 'varchar(32)', (c) => c.notNull())
        .addColumn('admin_state_up', 'boolean', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('device_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('device_owner', 'varchar(255)', (c) => c.notNull())
        .addColumn('port_security_enabled', 'boolean', (c) => c.notNull())
        .addColumn('allowed_address_pairs', 'text', (c) => c.notNull())
        .addColumn('extra_dhcp_opts', 'text', (c) => c.notNull()),
    ).execute();

    // Fixed IPs. The unique key is the last line of defence against a duplicate address.
    await db.schema
      .createTable('ipallocations')
      .addColumn('port_id', 'varchar(36)', (c) => c.notNull().references('ports.id').onDelete('cascade'))
      .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
      .addColumn('subnet_id', 'varchar(36)', (c) => c.notNull().references('subnets.id'))
      .addColumn('network_id', 'varchar(36)', (c) => c.notNull())
      .addPrimaryKeyConstraint('ipallocations_pkey', ['subnet_id', 'ip_address'])
      .execute();

    await db.schema
      .createTable('tags')
      .addColumn('resource_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('tag', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('tags_pkey', ['resource_id', 'tag'])
      .execute();

    const idx = (name: string, table: string, cols: string[], unique = false) => {
      let b = db.schema.createIndex(name).on(table).columns(cols);
      if (unique) b = b.unique();
      return b.execute();
    };
    await idx('ix_networks_project_id', 'networks', ['project_id']);
    await idx('ix_networks_name', 'networks', ['name']);
    await idx('ix_subnets_network_id', 'subnets', ['network_id']);
    await idx('ix_subnets_project_id', 'subnets', ['project_id']);
    await idx('ix_subnets_subnetpool_id', 'subnets', ['subnetpool_id']);
    await idx('ix_ports_network_id_mac', 'ports', ['network_id', 'mac_address'], true);
    await idx('ix_ports_project_id', 'ports', ['project_id']);
    await idx('ix_ports_device_id', 'ports', ['device_id']);
    await idx('ix_ports_device_owner', 'ports', ['device_owner']);
    await idx('ix_ports_name', 'ports', ['name']);
    await idx('ix_ipallocations_port_id', 'ipallocations', ['port_id']);
    await idx('ix_ipallocations_ip_address', 'ipallocations', ['ip_address']);
    await idx('ix_tags_tag', 'tags', ['tag']);
    await idx('ix_subnetpools_project_id', 'subnetpools', ['project_id']);
    await idx('ix_address_scopes_project_id', 'address_scopes', ['project_id']);
  },
};

const m002: Migration = {
  async up(db: K) {
    await standard(
      db.schema
        .createTable('securitygroups')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('stateful', 'boolean', (c) => c.notNull()),
    ).execute();
    // One default group per project; the primary key settles concurrent first requests.
    await db.schema
      .createTable('default_security_groups')
      .addColumn('project_id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('security_group_id', 'varchar(36)', (c) => c.notNull().references('securitygroups.id').onDelete('cascade'))
      .execute();
    await standard(
      db.schema
        .createTable('securitygrouprules')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('security_group_id', 'varchar(36)', (c) => c.notNull().references('securitygroups.id').onDelete('cascade'))
        .addColumn('remote_group_id', 'varchar(36)', (c) => c.references('securitygroups.id').onDelete('cascade'))
        .addColumn('direction', 'varchar(16)', (c) => c.notNull())
        .addColumn('ethertype', 'varchar(8)', (c) => c.notNull())
        .addColumn('protocol', 'varchar(40)')
        .addColumn('port_range_min', 'integer')
        .addColumn('port_range_max', 'integer')
        .addColumn('remote_ip_prefix', 'varchar(64)'),
    ).execute();
    await db.schema
      .createTable('securitygroupportbindings')
      .addColumn('port_id', 'varchar(36)', (c) => c.notNull().references('ports.id').onDelete('cascade'))
      .addColumn('security_group_id', 'varchar(36)', (c) => c.notNull().references('securitygroups.id'))
      .addPrimaryKeyConstraint('securitygroupportbindings_pkey', ['port_id', 'security_group_id'])
      .execute();
    await db.schema.createIndex('ix_securitygroups_project_id').on('securitygroups').column('project_id').execute();
    await db.schema.createIndex('ix_sgrules_sg_id').on('securitygrouprules').column('security_group_id').execute();
    await db.schema.createIndex('ix_sgbindings_sg_id').on('securitygroupportbindings').column('security_group_id').execute();
  },
};

// Per-project quota limits that differ from the [quotas] defaults (Neutron's `quotas` table).
const m003: Migration = {
  async up(db: K) {
    await db.schema
      .createTable('quotas')
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource', 'varchar(255)', (c) => c.notNull())
      .addColumn('hard_limit', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('quotas_pkey', ['project_id', 'resource'])
      .execute();
  },
};

// RBAC policies (Neutron's networkrbacs, subnetpoolrbacs, addressscoperbacs, securitygrouprbacs in
// one table keyed by object_type). The `shared` / `router_external` columns stay as a summary of
// the wildcard policies (`*` access_as_shared; any access_as_external) for cheap filters.
const m004: Migration = {
  async up(db: K) {
    await db.schema
      .createTable('rbac_policies')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('object_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('object_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('target_tenant', 'varchar(255)', (c) => c.notNull())
      .addColumn('action', 'varchar(255)', (c) => c.notNull())
      .addUniqueConstraint('uniq_rbac_policies', ['object_type', 'object_id', 'action', 'target_tenant'])
      .execute();
    // Visibility subqueries: "objects of this type shared with '*' or with me".
    await db.schema
      .createIndex('ix_rbac_policies_target')
      .on('rbac_policies')
      .columns(['object_type', 'target_tenant', 'object_id'])
      .execute();
    await db.schema.createIndex('ix_rbac_policies_project_id').on('rbac_policies').column('project_id').execute();
    await db.schema.createIndex('ix_networks_router_external').on('networks').column('router_external').execute();
    // Objects shared before this migration get the policies Neutron would have made.
    const now: Array<[string, string, string]> = [
      ['networks', 'network', 'shared'],
      ['networks', 'network', 'router_external'],
      ['subnetpools', 'subnetpool', 'shared'],
      ['address_scopes', 'address_scope', 'shared'],
    ];
    for (const [table, type, column] of now) {
      const rows = await db
        .selectFrom(table)
        .select(['id', 'project_id'])
        .where(sql<boolean>`${sql.ref(column)}`)
        .execute();
      for (const r of rows) {
        await db
          .insertInto('rbac_policies')
          .values({
            id: randomUUID(),
            project_id: r.project_id,
            object_type: type,
            object_id: r.id,
            target_tenant: '*',
            action: column === 'shared' ? 'access_as_shared' : 'access_as_external',
          })
          .execute();
      }
    }
  },
};

// Agents, as they register by reporting their state (Neutron's `agents` table). One row per
// (agent_type, host): the unique key settles two first reports arriving at once. Times are UTC
// 'YYYY-MM-DD HH:MM:SS', as the API shows them, so they compare as text.
const m006: Migration = {
  async up(db: K) {
    await db.schema
      .createTable('agents')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('agent_type', 'varchar(255)', (c) => c.notNull())
      .addColumn('binary', 'varchar(255)', (c) => c.notNull())
      .addColumn('topic', 'varchar(255)', (c) => c.notNull())
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addColumn('availability_zone', 'varchar(255)')
      .addColumn('admin_state_up', 'boolean', (c) => c.notNull().defaultTo(true))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('heartbeat_timestamp', 'varchar(32)', (c) => c.notNull())
      .addColumn('description', 'varchar(255)')
      .addColumn('configurations', 'text', (c) => c.notNull())
      .addColumn('resource_versions', 'text')
      .addColumn('resources_synced', 'boolean')
      .addUniqueConstraint('uniq_agents0agent_type0host', ['agent_type', 'host'])
      .execute();
    await db.schema.createIndex('ix_agents_host').on('agents').column('host').execute();
  },
};

// ML2's segments and segmentation-id pools (Neutron's networksegments and ml2_*_allocations).
// A segment goes with its network; its id goes back to the pool through the type manager.
const m005: Migration = {
  async up(db: K) {
    await standard(
      db.schema
        .createTable('networksegments')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('networks.id').onDelete('cascade'))
        .addColumn('network_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('physical_network', 'varchar(64)')
        .addColumn('segmentation_id', 'bigint')
        .addColumn('segment_index', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_dynamic', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('name', 'varchar(255)'),
    ).execute();
    await db.schema.createIndex('ix_networksegments_network_id').on('networksegments').column('network_id').execute();
    await db.schema
      .createTable('ml2_flat_allocations')
      .addColumn('physical_network', 'varchar(64)', (c) => c.primaryKey())
      .execute();
    await db.schema
      .createTable('ml2_vlan_allocations')
      .addColumn('physical_network', 'varchar(64)', (c) => c.notNull())
      .addColumn('vlan_id', 'integer', (c) => c.notNull())
      .addColumn('allocated', 'boolean', (c) => c.notNull())
      .addPrimaryKeyConstraint('ml2_vlan_allocations_pkey', ['physical_network', 'vlan_id'])
      .execute();
    await db.schema
      .createIndex('ix_ml2_vlan_allocations_physical_network_allocated')
      .on('ml2_vlan_allocations')
      .columns(['physical_network', 'allocated'])
      .execute();
    // GRE keys reach 2**32 - 1, beyond a 32-bit integer.
    for (const [table, column, type] of [
      ['ml2_vxlan_allocations', 'vxlan_vni', 'integer'],
      ['ml2_gre_allocations', 'gre_id', 'bigint'],
      ['ml2_geneve_allocations', 'geneve_vni', 'integer'],
    ] as const) {
      await db.schema
        .createTable(table)
        .addColumn(column, type, (c) => c.primaryKey())
        .addColumn('allocated', 'boolean', (c) => c.notNull().defaultTo(false))
        .execute();
      await db.schema.createIndex(`ix_${table}_allocated`).on(table).column('allocated').execute();
    }
  },
};

// Port bindings (ML2's ml2_port_bindings and ml2_port_binding_levels) and provisioning blocks.
// Only ports someone asked to bind have a binding row; the others read as unbound.
const m007: Migration = {
  async up(db: K) {
    await db.schema
      .createTable('ml2_port_bindings')
      .addColumn('port_id', 'varchar(36)', (c) => c.primaryKey().references('ports.id').onDelete('cascade'))
      .addColumn('host', 'varchar(255)', (c) => c.notNull().defaultTo(''))
      .addColumn('vnic_type', 'varchar(64)', (c) => c.notNull().defaultTo('normal'))
      .addColumn('profile', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('vif_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('vif_details', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('failure_reason', 'text')
      .execute();
    await db.schema.createIndex('ix_ml2_port_bindings_host').on('ml2_port_bindings').column('host').execute();
    await db.schema
      .createTable('ml2_port_binding_levels')
      .addColumn('port_id', 'varchar(36)', (c) => c.notNull().references('ports.id').onDelete('cascade'))
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addColumn('level', 'integer', (c) => c.notNull())
      .addColumn('driver', 'varchar(64)', (c) => c.notNull())
      .addColumn('segment_id', 'varchar(36)', (c) => c.references('networksegments.id').onDelete('set null'))
      .addPrimaryKeyConstraint('ml2_port_binding_levels_pkey', ['port_id', 'host', 'level'])
      .execute();
    await db.schema.createIndex('ix_ml2_port_binding_levels_host').on('ml2_port_binding_levels').column('host').execute();
    await db.schema
      .createTable('provisioningblocks')
      .addColumn('port_id', 'varchar(36)', (c) => c.notNull().references('ports.id').onDelete('cascade'))
      .addColumn('entity', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('provisioningblocks_pkey', ['port_id', 'entity'])
      .execute();
  },
};

// Routers, floating IPs and the L3 agent scheduler (neutron's routers, routerl3agentbindings,
// floatingips), flavors and service profiles, auto-allocated topologies, and is_default of
// external networks. A router's ports are the ports whose device_id is the router; its gateway
// port is also named by gw_port_id. Unique keys settle races: one floating IP per fixed IP of a
// port on an external network, one router binding per agent and per binding index.
const m009: Migration = {
  async up(db: K) {
    await db.schema
      .createTable('flavors')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
      .addColumn('description', 'varchar(1024)')
      .addColumn('service_type', 'varchar(36)', (c) => c.notNull())
      .addColumn('enabled', 'boolean', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('serviceprofiles')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('description', 'varchar(1024)')
      .addColumn('driver', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
      .addColumn('metainfo', 'varchar(4096)')
      .addColumn('enabled', 'boolean', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('flavorserviceprofilebindings')
      .addColumn('flavor_id', 'varchar(36)', (c) => c.notNull().references('flavors.id').onDelete('cascade'))
      .addColumn('service_profile_id', 'varchar(36)', (c) => c.notNull().references('serviceprofiles.id'))
      .addPrimaryKeyConstraint('flavorserviceprofilebindings_pkey', ['flavor_id', 'service_profile_id'])
      .execute();

    await standard(
      db.schema
        .createTable('routers')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('admin_state_up', 'boolean', (c) => c.notNull())
        .addColumn('gw_port_id', 'varchar(36)', (c) => c.references('ports.id'))
        .addColumn('enable_snat', 'boolean', (c) => c.notNull().defaultTo(true))
        .addColumn('ha', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('distributed', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('flavor_id', 'varchar(36)', (c) => c.references('flavors.id'))
        .addColumn('availability_zone_hints', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('routes', 'text', (c) => c.notNull().defaultTo('[]')),
    ).execute();
    await db.schema.createIndex('ix_routers_project_id').on('routers').column('project_id').execute();
    await db.schema.createIndex('ix_routers_gw_port_id').on('routers').column('gw_port_id').execute();

    await standard(
      db.schema
        .createTable('floatingips')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('floating_ip_address', 'varchar(64)', (c) => c.notNull())
        .addColumn('floating_network_id', 'varchar(36)', (c) => c.notNull().references('networks.id'))
        .addColumn('floating_port_id', 'varchar(36)', (c) => c.notNull().unique().references('ports.id').onDelete('cascade'))
        .addColumn('fixed_port_id', 'varchar(36)', (c) => c.references('ports.id').onDelete('set null'))
        .addColumn('fixed_ip_address', 'varchar(64)')
        .addColumn('router_id', 'varchar(36)', (c) => c.references('routers.id'))
        .addColumn('last_known_router_id', 'varchar(36)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull()),
    ).execute();
    await db.schema
      .createIndex('uniq_floatingips_floating_network_id_fixed_port_id_fixed_ip_address')
      .on('floatingips')
      .columns(['floating_network_id', 'fixed_port_id', 'fixed_ip_address'])
      .unique()
      .execute();
    await db.schema.createIndex('ix_floatingips_project_id').on('floatingips').column('project_id').execute();
    await db.schema.createIndex('ix_floatingips_fixed_port_id').on('floatingips').column('fixed_port_id').execute();
    await db.schema.createIndex('ix_floatingips_router_id').on('floatingips').column('router_id').execute();

    await db.schema
      .createTable('routerl3agentbindings')
      .addColumn('router_id', 'varchar(36)', (c) => c.notNull().references('routers.id').onDelete('cascade'))
      .addColumn('l3_agent_id', 'varchar(36)', (c) => c.notNull().references('agents.id').onDelete('cascade'))
      .addColumn('binding_index', 'integer', (c) => c.notNull().defaultTo(1))
      .addPrimaryKeyConstraint('routerl3agentbindings_pkey', ['router_id', 'l3_agent_id'])
      .addUniqueConstraint('uniq_router_l3_agent_binding0router_id0binding_index0', ['router_id', 'binding_index'])
      .execute();
    await db.schema
      .createIndex('ix_routerl3agentbindings_l3_agent_id')
      .on('routerl3agentbindings')
      .column('l3_agent_id')
      .execute();

    await db.schema
      .createTable('auto_allocated_topologies')
      .addColumn('project_id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('networks.id').onDelete('cascade'))
      .addColumn('router_id', 'varchar(36)', (c) => c.references('routers.id').onDelete('set null'))
      .execute();

    await db.schema
      .alterTable('networks')
      .addColumn('is_default', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute();
  },
};

// The DHCP agent scheduler: which DHCP agents host which networks (Neutron's
// networkdhcpagentbindings), a binding_index unique per network.
const m008: Migration = {
  async up(db: K) {
    await db.schema
      .createTable('networkdhcpagentbindings')
      .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('networks.id').onDelete('cascade'))
      .addColumn('dhcp_agent_id', 'varchar(36)', (c) => c.notNull().references('agents.id').onDelete('cascade'))
      .addColumn('binding_index', 'integer', (c) => c.notNull().defaultTo(1))
      .addPrimaryKeyConstraint('networkdhcpagentbindings_pkey', ['network_id', 'dhcp_agent_id'])
      .addUniqueConstraint('uniq_network_dhcp_agent_binding0network_id0binding_index0', ['network_id', 'binding_index'])
      .execute();
    await db.schema
      .createIndex('ix_networkdhcpagentbindings_dhcp_agent_id')
      .on('networkdhcpagentbindings')
      .column('dhcp_agent_id')
      .execute();
  },
};

// Address groups (Neutron's address_groups and address_associations), a rule's
// remote_address_group_id, and the index agents' remote-group reads use.
const m010: Migration = {
  async up(db: K) {
    // Neutron's address groups take descriptions of up to 1024 characters.
    await db.schema
      .createTable('address_groups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('revision_number', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('ix_address_groups_project_id').on('address_groups').column('project_id').execute();
    await db.schema
      .createTable('address_associations')
      .addColumn('address', 'varchar(64)', (c) => c.notNull())
      .addColumn('address_group_id', 'varchar(36)', (c) => c.notNull().references('address_groups.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('address_associations_pkey', ['address', 'address_group_id'])
      .execute();
    await db.schema.createIndex('ix_address_associations_group').on('address_associations').column('address_group_id').execute();
    // An address group in use by a rule cannot be deleted (AddressGroupInUse): no cascade.
    await db.schema
      .alterTable('securitygrouprules')
      .addColumn('remote_address_group_id', 'varchar(36)', (c) => c.references('address_groups.id'))
      .execute();
    await db.schema
      .createIndex('ix_sgrules_remote_address_group_id')
      .on('securitygrouprules')
      .column('remote_address_group_id')
      .execute();
    await db.schema.createIndex('ix_sgrules_remote_group_id').on('securitygrouprules').column('remote_group_id').execute();
  },
};

// Ports' attributes for Nova and Cyborg that Neutron only stores and shows: the NUMA affinity
// policy (port-numa-affinity-policy) and the device profile (port-device-profile); networks'
// availability_zone_hints (network_availability_zone).
const m011: Migration = {
  async up(db: K) {
    await db.schema.alterTable('ports').addColumn('numa_affinity_policy', 'varchar(16)').execute();
    await db.schema.alterTable('ports').addColumn('device_profile', 'varchar(255)').execute();
    await db.schema
      .alterTable('networks')
      .addColumn('availability_zone_hints', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
  },
};

const MIGRATIONS: Record<string, Migration> = {
  '001_core': m001,
  '002_security_groups': m002,
  '003_quotas': m003,
  '004_rbac': m004,
  '005_ml2': m005,
  '006_agents': m006,
  '007_port_bindings': m007,
  '008_dhcp': m008,
  '009_l3': m009,
  '010_address_groups': m010,
  '011_port_and_network_attributes': m011,
};

class StaticProvider implements MigrationProvider {
  async getMigrations() {
    return MIGRATIONS;
  }
}

/** Applies pending migrations; returns the names applied. Kysely's migrator holds a lock so two
 * processes starting at once do not both apply a migration. */
export async function upgrade(db: DB): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(),
    migrationTableName: 'neutrino_migrations',
    migrationLockTableName: 'neutrino_migrations_lock',
    // Parts built side by side took numbers ahead (008 DHCP, 009 L3, 010 address groups) and land
    // in any order: a database that has 010 still gets 008 when it arrives.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Whether every migration has been applied (each of them: they may be applied out of order). */
export async function isUpToDate(db: DB): Promise<boolean> {
  try {
    const rows = await sql<{ name: string }>`select name from neutrino_migrations`.execute(db);
    const applied = new Set(rows.rows.map((r) => r.name));
    return Object.keys(MIGRATIONS).every((m) => applied.has(m));
  } catch {
    return false;
  }
}

export async function currentVersion(db: DB): Promise<string | null> {
  try {
    const row = await sql<{ name: string }>`select name from neutrino_migrations order by name desc limit 1`.execute(db);
    return row.rows[0]?.name ?? null;
  } catch {
    return null;
  }
}
