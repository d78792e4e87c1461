import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, BOB, expectError, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

const sg = (attrs: Record<string, unknown> = {}, as = ALICE) =>
  s.create('security_groups', 'security_group', { name: 'web', ...attrs }, as);
const rule = (attrs: Record<string, unknown>, as = ALICE) =>
  s.post('/v2.0/security-group-rules', { security_group_rule: attrs }, as);

describe('security groups', () => {
  test('a project gets one default group with four rules on first list', async () => {
    const r = await s.get('/v2.0/security-groups', BOB);
    assert.equal(r.status, 200);
    const defaults = r.body.security_groups.filter((g: { name: string }) => g.name === 'default');
    assert.equal(defaults.length, 1);
    const rules = defaults[0].security_group_rules;
    assert.equal(rules.length, 4);
    const ingress = rules.filter((x: { direction: string }) => x.direction === 'ingress');
    assert.deepEqual(ingress.map((x: { ethertype: string }) => x.ethertype).sort(), ['IPv4', 'IPv6']);
    for (const x of ingress) assert.equal(x.remote_group_id, defaults[0].id);
    assert.ok(rules.every((x: { belongs_to_default_sg: boolean }) => x.belongs_to_default_sg));
    const again = await s.get('/v2.0/security-groups?name=default', BOB);
    assert.equal(again.body.security_groups.length, 1);
  });

  test('a new group gets the two egress rules; the name default is refused', async () => {
    const g = await sg({ description: 'web tier' });
    assert.equal(g.description, 'web tier');
    assert.equal(g.stateful, true);
    assert.deepEqual(
      g.security_group_rules.map((x: { direction: string; ethertype: string }) => `${x.direction}/${x.ethertype}`).sort(),
      ['egress/IPv4', 'egress/IPv6'],
    );
    expectError(
      await s.post('/v2.0/security-groups', { security_group: { name: 'default' } }, ALICE),
      409,
      'SecurityGroupDefaultAlreadyExists',
    );
    expectError(
      await s.put(`/v2.0/security-groups/${g.id}`, { security_group: { name: 'Default' } }, ALICE),
      409,
      'SecurityGroupDefaultAlreadyExists',
    );
    expectError(await s.get(`/v2.0/security-groups/${g.id}`, BOB), 404, 'SecurityGroupNotFound');
  });

  test('rules: validation, canonical values, duplicates, revision of the group', async () => {
    const g = await sg();
    const ok = await rule({
      security_group_id: g.id,
      direction: 'ingress',
      protocol: 'TCP',
      port_range_min: 22,
      port_range_max: 22,
      ethertype: 'ipv4',
      remote_ip_prefix: '10.0.0.5/24',
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const r = ok.body.security_group_rule;
    assert.equal(r.protocol, 'tcp');
    assert.equal(r.ethertype, 'IPv4');
    assert.equal(r.normalized_cidr, '10.0.0.0/24');
    const shown = await s.get(`/v2.0/security-groups/${g.id}`, ALICE);
    assert.equal(shown.body.security_group.revision_number, g.revision_number + 1);
    expectError(
      await rule({
        security_group_id: g.id,
        direction: 'ingress',
        protocol: '6',
        port_range_min: 22,
        port_range_max: 22,
        remote_ip_prefix: '10.0.0.5/24',
      }),
      409,
      'SecurityGroupRuleExists',
    );
    expectError(await rule({ security_group_id: g.id, direction: 'sideways' }), 400);
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', port_range_min: 80, port_range_max: 80 }),
      400,
      'SecurityGroupProtocolRequiredWithPorts',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 90, port_range_max: 80 }),
      400,
      'SecurityGroupInvalidPortRange',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 70000, port_range_max: 80 }),
      400,
      'SecurityGroupInvalidPortValue',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', protocol: 'icmp', port_range_min: 300 }),
      400,
      'SecurityGroupInvalidIcmpValue',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', protocol: 'gre', port_range_min: 1, port_range_max: 2 }),
      400,
      'SecurityGroupInvalidProtocolForPort',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', protocol: 'bogus' }),
      400,
      'SecurityGroupRuleInvalidProtocol',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' }),
      400,
      'SecurityGroupRuleParameterConflict',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', remote_ip_prefix: '10.0.0.0/8', remote_group_id: g.id }),
      400,
      // Zed's securitygroups_db: one remote of the three, whichever two are given.
      'SecurityGroupMultipleRemoteEntites',
    );
    expectError(
      await rule({ security_group_id: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'ipv6-icmp' }),
      400,
      'SecurityGroupEthertypeConflictWithProtocol',
    );
    expectError(
      await rule({ security_group_id: '9f1e3c3a-0000-4000-8000-000000000000', direction: 'ingress' }),
      404,
      'SecurityGroupNotFound',
    );
    expectError(await rule({ security_group_id: g.id, direction: 'ingress' }, BOB), 404, 'SecurityGroupNotFound');
    const del = await s.del(`/v2.0/security-group-rules/${r.id}`, ALICE);
    assert.equal(del.status, 204);
    const after = await s.get(`/v2.0/security-groups/${g.id}`, ALICE);
    assert.equal(after.body.security_group.revision_number, g.revision_number + 2);
  });

  test('ports get the default group; port security and groups go together', async () => {
    const net = await s.network();
    await s.subnet(net.id, '10.30.0.0/24');
    const p = await s.port(net.id);
    const def = (await s.get('/v2.0/security-groups?name=default', ALICE)).body.security_groups[0];
    assert.deepEqual(p.security_groups, [def.id]);
    const listed = await s.get(`/v2.0/ports?security_groups=${def.id}`, ALICE);
    assert.ok(listed.body.ports.some((x: { id: string }) => x.id === p.id));
    expectError(
      await s.put(`/v2.0/ports/${p.id}`, { port: { port_security_enabled: false } }, ALICE),
      409,
      'PortSecurityPortHasSecurityGroup',
    );
    const off = await s.put(`/v2.0/ports/${p.id}`, { port: { port_security_enabled: false, security_groups: [] } }, ALICE);
    assert.equal(off.status, 200);
    assert.deepEqual(off.body.port.security_groups, []);
    // Enabling port security on update does not attach the default group.
    const on = await s.put(`/v2.0/ports/${p.id}`, { port: { port_security_enabled: true } }, ALICE);
    assert.deepEqual(on.body.port.security_groups, []);
    expectError(
      await s.post(
        '/v2.0/ports',
        { port: { network_id: net.id, port_security_enabled: false, security_groups: [def.id] } },
        ALICE,
      ),
      400,
      'PortSecurityAndIPRequiredForSecurityGroups',
    );
    expectError(
      await s.post(
        '/v2.0/ports',
        { port: { network_id: net.id, security_groups: ['5a0c2f2e-1111-4111-8111-111111111111'] } },
        ALICE,
      ),
      404,
      'SecurityGroupNotFound',
    );
    const dhcp = await s.port(net.id, { device_owner: 'network:dhcp' });
    assert.deepEqual(dhcp.security_groups, []);
  });

  test('a group in use cannot be deleted; a project cannot delete its default', async () => {
    const net = await s.network();
    const g = await sg({ name: 'used' });
    const p = await s.port(net.id, { security_groups: [g.id] });
    expectError(await s.del(`/v2.0/security-groups/${g.id}`, ALICE), 409, 'SecurityGroupInUse');
    assert.equal((await s.del(`/v2.0/ports/${p.id}`, ALICE)).status, 204);
    assert.equal((await s.del(`/v2.0/security-groups/${g.id}`, ALICE)).status, 204);
    const def = (await s.get('/v2.0/security-groups?name=default', ALICE)).body.security_groups[0];
    expectError(await s.del(`/v2.0/security-groups/${def.id}`, ALICE), 409, 'SecurityGroupCannotRemoveDefault');
    const other = (await s.get('/v2.0/security-groups?name=default', BOB)).body.security_groups[0];
    const rows = await s.get(`/v2.0/security-group-rules?security_group_id=${other.id}`, ADMIN);
    assert.equal(rows.body.security_group_rules.length, 4);
  });
});
