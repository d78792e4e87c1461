// Address groups (/v2.0/address-groups, the add_addresses / remove_addresses actions, RBAC
// sharing), rules naming them (remote_address_group_id), and what agents hear and read of security
// groups over the server's in-process bus: the answers and error bodies are Neutron Zed's (asked of a
// real Neutron with ../shared/conformance/neutron-up.sh).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Listener, listenAgentNotifications, ServerRpcClient } from '../../src/rpc/index.js';
import { ADMIN, ALICE, BOB, expectError, TestServer } from '../helpers.js';

describe('address groups', () => {
  let s: TestServer;
  before(async () => {
    s = await TestServer.start();
  });
  after(async () => {
    await s?.close();
  });
  const ag = (attrs: Record<string, unknown>, as = ALICE) =>
    s.create('address_groups', 'address_group', { name: 'ag', ...attrs }, as);
  const act = (id: string, action: string, body: unknown, as = ALICE) => s.put(`/v2.0/address-groups/${id}/${action}`, body, as);

  it('lifecycle: addresses normalized, Neutron’s shape, read-only addresses, gone after delete', async () => {
    const g = await ag({
      description: 'Test AG',
      addresses: ['10.10.10.3/32', '192.168.0.10/24', '2001:db8::f00/64', '192.168.0.99/24'],
    });
    assert.deepEqual(Object.keys(g).sort(), ['addresses', 'description', 'id', 'name', 'project_id', 'tenant_id']);
    assert.deepEqual([...g.addresses].sort(), ['10.10.10.3/32', '192.168.0.0/24', '2001:db8::/64']);
    assert.equal(g.tenant_id, ALICE.project);
    const updated = (await s.put(`/v2.0/address-groups/${g.id}`, { address_group: { description: 'New', name: 'n2' } }, ALICE))
      .body.address_group;
    assert.deepEqual([updated.name, updated.description, [...updated.addresses].sort()], ['n2', 'New', [...g.addresses].sort()]);
    const ro = await s.put(`/v2.0/address-groups/${g.id}`, { address_group: { addresses: ['10.1.1.1/32'] } }, ALICE);
    expectError(ro, 400, 'HTTPBadRequest');
    assert.equal(ro.body.NeutronError.message, 'Cannot update read-only attribute addresses');
    assert.equal(
      (await s.get(`/v2.0/address-groups?fields=id&fields=addresses`, ALICE)).body.address_groups[0].addresses.length,
      3,
    );
    expectError(await s.get('/v2.0/address-groups?shared=true', ALICE), 400, 'HTTPBadRequest');
    expectError(await s.get('/v2.0/address-groups?addresses=10.10.10.3/32', ALICE), 400, 'HTTPBadRequest');
    expectError(await s.put(`/v2.0/address-groups/${g.id}/tags/foo`, undefined, ALICE), 404);
    assert.equal((await s.del(`/v2.0/address-groups/${g.id}`, ALICE)).status, 204);
    const gone = await s.get(`/v2.0/address-groups/${g.id}`, ALICE);
    expectError(gone, 404, 'AddressGroupNotFound');
    assert.equal(gone.body.NeutronError.message, `Address group ${g.id} could not be found.`);
    const bulk = await s.post(
      '/v2.0/address-groups',
      { address_groups: [{ name: 'b1' }, { name: 'b2', addresses: ['fd00::5/64'] }] },
      ALICE,
    );
    assert.equal(bulk.status, 201);
    assert.deepEqual(bulk.body.address_groups[1].addresses, ['fd00::/64']);
  });

  it('refuses an address that is not a CIDR on create, and anything unparseable', async () => {
    const bare = await s.post('/v2.0/address-groups', { address_group: { name: 'x', addresses: ['10.20.30.40'] } }, ALICE);
    expectError(bare, 400, 'HTTPBadRequest');
    assert.equal(
      bare.body.NeutronError.message,
      "Invalid input for addresses. Reason: '10.20.30.40' isn't a recognized IP subnet cidr, '10.20.30.40/32' is recommended.",
    );
    const junk = await s.post('/v2.0/address-groups', { address_group: { name: 'x', addresses: ['this is bad'] } }, ALICE);
    assert.equal(junk.body.NeutronError.message, "Invalid input for addresses. Reason: 'this is bad' is not a valid IP subnet.");
    expectError(await s.post('/v2.0/address-groups', { address_group: { name: 'x', addresses: '10.0.0.0/8' } }, ALICE), 400);
    expectError(await s.post('/v2.0/address-groups', { address_group: { name: 'x', shared: true } }, ALICE), 400);
    const empty = await s.post(
      '/v2.0/address-groups',
      { address_group: { name: 'x', addresses: ['10.1.0.5/16', '10.1.0.9/16'] } },
      ALICE,
    );
    assert.deepEqual(empty.body.address_group.addresses, ['10.1.0.0/16'], 'one network given twice is one address');
  });

  it('add_addresses / remove_addresses: Neutron’s answers and errors; nothing changes on an error', async () => {
    const g = await ag({ addresses: ['10.10.10.3/32', '192.168.0.10/24'] });
    const added = await act(g.id, 'add_addresses', { addresses: ['10.20.30.40', '10.50.0.1/32', '10.50.0.1/32'] });
    assert.equal(added.status, 200);
    const a = added.body.address_group;
    assert.deepEqual(Object.keys(a).sort(), [
      'addresses',
      'created_at',
      'description',
      'id',
      'name',
      'project_id',
      'revision_number',
      'shared',
      'tenant_id',
      'updated_at',
    ]);
    assert.deepEqual([...a.addresses].sort(), ['10.10.10.3/32', '10.20.30.40/32', '10.50.0.1/32', '192.168.0.0/24']);
    assert.equal(a.shared, false);
    assert.ok(a.revision_number >= 1);
    const dup = await act(g.id, 'add_addresses', { addresses: ['10.10.10.3/32', '10.99.0.1/32'] });
    expectError(dup, 400, 'AddressesAlreadyExist');
    assert.equal(dup.body.NeutronError.message, `Addresses ['10.10.10.3/32'] already exist in the address group ${g.id}.`);
    const bad = await act(g.id, 'add_addresses', { addresses: ['this is bad IP address'] });
    expectError(bad, 400, 'AddrFormatError');
    assert.equal(bad.body.NeutronError.message, 'invalid IPNetwork this is bad IP address');
    expectError(await act(g.id, 'add_addresses', {}), 400);
    expectError(await act(g.id, 'add_addresses', { address_group: { addresses: ['10.9.9.9/32'] } }), 400);
    expectError(await act(g.id, 'add_addresses', { addresses: '10.1.1.1/32' }), 400);
    const missing = await act(g.id, 'remove_addresses', { addresses: ['10.200.200.200', '10.10.10.3/32'] });
    expectError(missing, 404, 'AddressesNotFound');
    assert.equal(missing.body.NeutronError.message, `Addresses ['10.200.200.200/32'] not found in the address group ${g.id}.`);
    expectError(await act(g.id, 'remove_addresses', { addresses: ['bad ip'] }), 400, 'AddrFormatError');
    const shown = (await s.get(`/v2.0/address-groups/${g.id}`, ALICE)).body.address_group;
    assert.deepEqual([...shown.addresses].sort(), [...a.addresses].sort(), 'failed actions changed nothing');
    // Nothing to add or remove changes nothing, not even the revision (as in Neutron Zed).
    for (const action of ['add_addresses', 'remove_addresses']) {
      const none = await act(g.id, action, { addresses: [] });
      assert.equal(none.status, 200);
      assert.deepEqual(
        [none.body.address_group.revision_number, none.body.address_group.updated_at],
        [a.revision_number, a.updated_at],
        action,
      );
    }
    const removed = await act(g.id, 'remove_addresses', { addresses: ['10.10.10.3'] });
    assert.equal(removed.status, 200);
    assert.ok(!removed.body.address_group.addresses.includes('10.10.10.3/32'));
    assert.ok(removed.body.address_group.revision_number > a.revision_number);
    expectError(
      await act('00000000-0000-0000-0000-000000000000', 'add_addresses', { addresses: ['10.1.1.1/32'] }),
      404,
      'AddressGroupNotFound',
    );
    expectError(await act(g.id, 'add_addresses', { addresses: ['10.1.1.1/32'] }, BOB), 404, 'AddressGroupNotFound');
  });

  it('rules name an address group; one remote only; an address group in use cannot go', async () => {
    const g = await ag({ addresses: ['10.0.0.0/24'] });
    const sg = await s.create('security_groups', 'security_group', { name: 'web' }, ALICE);
    const rule = (attrs: Record<string, unknown>) =>
      s.post(
        '/v2.0/security-group-rules',
        { security_group_rule: { security_group_id: sg.id, direction: 'ingress', ...attrs } },
        ALICE,
      );
    const r = await rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_address_group_id: g.id });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.security_group_rule.remote_address_group_id, g.id);
    expectError(
      await rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_address_group_id: g.id }),
      409,
      'SecurityGroupRuleExists',
    );
    const two = await rule({ protocol: 'udp', remote_address_group_id: g.id, remote_ip_prefix: '10.0.0.0/8' });
    expectError(two, 400, 'SecurityGroupMultipleRemoteEntites');
    assert.equal(
      two.body.NeutronError.message,
      'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.',
    );
    expectError(
      await rule({ protocol: 'udp', remote_address_group_id: g.id, remote_group_id: sg.id }),
      400,
      'SecurityGroupMultipleRemoteEntites',
    );
    expectError(
      await rule({ protocol: 'udp', remote_address_group_id: '00000000-0000-0000-0000-000000000000' }),
      404,
      'AddressGroupNotFound',
    );
    // neutron-lib gives the attribute no validator: Neutron looks the group up and finds nothing.
    const notUuid = await rule({ protocol: 'udp', remote_address_group_id: 'not-a-uuid' });
    expectError(notUuid, 404, 'AddressGroupNotFound');
    assert.equal(notUuid.body.NeutronError.message, 'Address group not-a-uuid could not be found.');
    // What is not a group's id, whatever its JSON type, is no group either (Neutron Zed: 500 for
    // each of these); the one a list names is not looked up.
    for (const [value, shown] of [
      ['', ''],
      [[g.id], `['${g.id}']`],
      [{ toString: g.id }, `{'toString': '${g.id}'}`],
      [{ a: 1 }, "{'a': 1}"],
      [123, '123'],
      [true, 'True'],
    ] as const) {
      const odd = await rule({ protocol: 'udp', remote_address_group_id: value });
      expectError(odd, 404, 'AddressGroupNotFound');
      assert.equal(odd.body.NeutronError.message, `Address group ${shown} could not be found.`);
    }
    const none = await rule({ protocol: 'udp', remote_address_group_id: null });
    assert.equal(none.status, 201);
    const listed = await s.get(`/v2.0/security-group-rules?remote_address_group_id=${g.id}&fields=id`, ALICE);
    assert.deepEqual(listed.body.security_group_rules, [{ id: r.body.security_group_rule.id }]);
    const shownGroup = (await s.get(`/v2.0/security-groups/${sg.id}`, ALICE)).body.security_group;
    assert.ok(shownGroup.security_group_rules.every((x: Record<string, unknown>) => 'remote_address_group_id' in x));
    const inUse = await s.del(`/v2.0/address-groups/${g.id}`, ALICE);
    expectError(inUse, 409, 'AddressGroupInUse');
    assert.equal(inUse.body.NeutronError.message, `Address group ${g.id} is in use on one or more security group rules.`);
    assert.equal((await s.del(`/v2.0/security-group-rules/${r.body.security_group_rule.id}`, ALICE)).status, 204);
    assert.equal((await s.del(`/v2.0/address-groups/${g.id}`, ALICE)).status, 204);
  });

  it('RBAC: shared with a project it can see and use but not change; the policy stays while a rule uses it', async () => {
    const g = await ag({ addresses: ['10.1.0.0/16'] }, ADMIN);
    expectError(await s.get(`/v2.0/address-groups/${g.id}`, ALICE), 404, 'AddressGroupNotFound');
    const policy = await s.create(
      'rbac_policies',
      'rbac_policy',
      { object_type: 'address_group', object_id: g.id, action: 'access_as_shared', target_tenant: ALICE.project },
      ADMIN,
    );
    assert.equal((await s.get(`/v2.0/address-groups/${g.id}`, ALICE)).status, 200);
    expectError(await s.get(`/v2.0/address-groups/${g.id}`, BOB), 404);
    expectError(
      await s.put(`/v2.0/address-groups/${g.id}`, { address_group: { name: 'mine' } }, ALICE),
      404,
      'AddressGroupNotFound',
    );
    expectError(await act(g.id, 'add_addresses', { addresses: ['10.9.0.0/16'] }), 404, 'AddressGroupNotFound');
    const external = await s.post(
      '/v2.0/rbac-policies',
      {
        rbac_policy: { object_type: 'address_group', object_id: g.id, action: 'access_as_external', target_tenant: BOB.project },
      },
      ADMIN,
    );
    expectError(external, 400, 'InvalidActionForType');
    assert.equal(
      external.body.NeutronError.message,
      "Invalid action 'access_as_external' for object type 'address_group'. Valid actions: ('access_as_shared',)",
    );
    // Alice's rule depends on the policy: it cannot be deleted until the rule goes.
    const sg = await s.create('security_groups', 'security_group', { name: 'uses-ag' }, ALICE);
    const rule = await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: sg.id, direction: 'ingress', protocol: 'tcp', remote_address_group_id: g.id },
      ALICE,
    );
    expectError(await s.del(`/v2.0/rbac-policies/${policy.id}`, ADMIN), 409, 'RbacPolicyInUse');
    assert.equal((await s.del(`/v2.0/security-group-rules/${rule.id}`, ALICE)).status, 204);
    assert.equal((await s.del(`/v2.0/rbac-policies/${policy.id}`, ADMIN)).status, 204);
    expectError(await s.get(`/v2.0/address-groups/${g.id}`, ALICE), 404);
    // Alice may not share what is not hers (InvalidInput, as Neutron's callbacks answer).
    const mine = await ag({});
    expectError(
      await s.post(
        '/v2.0/rbac-policies',
        {
          rbac_policy: { object_type: 'address_group', object_id: g.id, action: 'access_as_shared', target_tenant: BOB.project },
        },
        ALICE,
      ),
      404,
    );
    assert.equal(
      (
        await s.post(
          '/v2.0/rbac-policies',
          {
            rbac_policy: {
              object_type: 'address_group',
              object_id: mine.id,
              action: 'access_as_shared',
              target_tenant: BOB.project,
            },
          },
          ALICE,
        )
      ).status,
      201,
    );
    assert.deepEqual(
      (await s.get('/v2.0/extensions/rbac-address-group')).body.extension.description,
      'Add address_group type to network RBAC',
    );
  });

  it('a port takes stateful or stateless groups, not both (SecurityGroupConflict)', async () => {
    const net = await s.network();
    const stateful = await s.create('security_groups', 'security_group', { name: 'sf' }, ALICE);
    const stateless = await s.create('security_groups', 'security_group', { name: 'sl', stateful: false }, ALICE);
    const mixed = await s.post(
      '/v2.0/ports',
      { port: { network_id: net.id, security_groups: [stateful.id, stateless.id] } },
      ALICE,
    );
    expectError(mixed, 409, 'SecurityGroupConflict');
    assert.match(mixed.body.NeutronError.message, /Cannot apply both stateful and stateless security groups on the same port/);
    const p = await s.port(net.id, { security_groups: [stateful.id] });
    expectError(
      await s.put(`/v2.0/ports/${p.id}`, { port: { security_groups: [stateful.id, stateless.id] } }, ALICE),
      409,
      'SecurityGroupConflict',
    );
    const moved = await s.put(`/v2.0/ports/${p.id}`, { port: { security_groups: [stateless.id] } }, ALICE);
    assert.deepEqual(moved.body.port.security_groups, [stateless.id]);
  });
});

describe('security groups as agents see them: notifications and get_security_group_info', () => {
  let s: TestServer;
  let listener: Listener;
  const heard: Array<[string, unknown]> = [];
  let agent: ServerRpcClient;
  before(async () => {
    s = await TestServer.start();
    const t = s.neutrino.transport;
    agent = new ServerRpcClient(t, { host: 'h1', timeoutMs: 5000 });
    const record = (name: string) => (args: unknown) => void heard.push([name, args]);
    listener = await listenAgentNotifications(t, 'h1', {
      security_groups_rule_updated: record('rule_updated'),
      security_groups_member_updated: record('member_updated'),
      address_groups_updated: record('address_groups_updated'),
    });
  });
  after(async () => {
    await listener?.stop();
    await s?.close();
  });
  const heardOf = async (name: string, ids: string[]) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = heard.find(([n, a]) => n === name && JSON.stringify(Object.values(a as object)[0]) === JSON.stringify(ids));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${name} ${JSON.stringify(ids)} among ${JSON.stringify(heard)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('rule changes, member changes and address changes are told; the info answers with rules and addresses', async () => {
    const web = await s.create('security_groups', 'security_group', { name: 'web' }, ALICE);
    const db = await s.create('security_groups', 'security_group', { name: 'db' }, ALICE);
    const g = await s.create('address_groups', 'address_group', { name: 'office', addresses: ['192.0.2.0/24'] }, ALICE);
    const r1 = await s.create(
      'security_group_rules',
      'security_group_rule',
      {
        security_group_id: db.id,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 5432,
        port_range_max: 5432,
        remote_group_id: web.id,
      },
      ALICE,
    );
    await heardOf('rule_updated', [db.id]);
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: db.id, direction: 'ingress', remote_address_group_id: g.id },
      ALICE,
    );
    const net = await s.network();
    await s.subnet(net.id, '10.5.0.0/24');
    const p = await s.port(net.id, { security_groups: [web.id], allowed_address_pairs: [{ ip_address: '10.5.0.200' }] });
    await heardOf('member_updated', [web.id]);
    const info = await agent.getSecurityGroupInfo([db.id], []);
    const rules = info.security_groups[db.id].rules;
    assert.equal(info.security_groups[db.id].stateful, true);
    assert.ok(rules.some((r) => r.id === r1.id && r.remote_group_id === web.id && r.port_range_min === 5432));
    assert.ok(rules.some((r) => r.remote_address_group_id === g.id));
    assert.deepEqual(
      [...info.sg_member_ips[web.id].IPv4].sort(),
      [p.fixed_ips[0].ip_address, '10.5.0.200'].sort(),
      'fixed IPs and address pairs',
    );
    assert.deepEqual(info.sg_member_ips[g.id], { IPv4: ['192.0.2.0/24'], IPv6: [] });
    await s.put(`/v2.0/address-groups/${g.id}/add_addresses`, { addresses: ['2001:db8::/64'] }, ALICE);
    await heardOf('address_groups_updated', [g.id]);
    const again = await agent.getSecurityGroupInfo([], [g.id, web.id]);
    assert.deepEqual(again.sg_member_ips[g.id], { IPv4: ['192.0.2.0/24'], IPv6: ['2001:db8::/64'] });
    assert.ok(again.sg_member_ips[web.id], 'a remote group asked for by id');
    heard.length = 0;
    await s.put(`/v2.0/ports/${p.id}`, { port: { security_groups: [db.id] } }, ALICE);
    // The groups it left and the ones it joined.
    await heardOf('member_updated', [web.id, db.id]);
    await s.put(`/v2.0/security-groups/${db.id}`, { security_group: { description: 'only a description' } }, ALICE);
    await s.del(`/v2.0/ports/${p.id}`, ALICE);
    await heardOf('member_updated', [db.id]);
    // Deleting the group `web` takes away db's rule naming it: db's rules changed.
    heard.length = 0;
    assert.equal((await s.del(`/v2.0/security-groups/${web.id}`, ALICE)).status, 204);
    await heardOf('rule_updated', [db.id]);
  });
});
