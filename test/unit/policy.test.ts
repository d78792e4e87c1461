import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Creds, decide, evaluate, PolicySyntaxError, parseCheck } from '../../src/api/policy/check.js';
import { Policy, PolicyFileError } from '../../src/api/policy/enforcer.js';
import { makeContext } from '../../src/plugins/context.js';
import { buildRegistry } from '../../src/resources/registry.js';

const creds = (roles: string[], project = 'p1'): Creds => ({
  project_id: project,
  tenant_id: project,
  user_id: 'u',
  roles,
  is_admin: roles.includes('admin'),
});
const none = () => undefined;

test('oslo.policy syntax: and/or/not, parentheses, @ and !, target substitution', () => {
  const c = parseCheck('(role:admin) or (role:member and project_id:%(project_id)s)');
  assert.equal(evaluate(c, { project_id: 'p1' }, creds(['member']), none), true);
  assert.equal(evaluate(c, { project_id: 'p2' }, creds(['member']), none), false);
  assert.equal(evaluate(c, { project_id: 'p2' }, creds(['admin']), none), true);
  assert.equal(evaluate(parseCheck('not role:reader'), {}, creds(['reader']), none), false);
  assert.equal(evaluate(parseCheck(''), {}, creds([]), none), true);
  assert.equal(evaluate(parseCheck('@'), {}, creds([]), none), true);
  assert.equal(evaluate(parseCheck('!'), {}, creds(['admin']), none), false);
  assert.equal(evaluate(parseCheck('field:networks:shared=True'), { shared: true }, creds([]), none), true);
  assert.equal(evaluate(parseCheck('field:networks:shared=True'), { 'network:shared': false }, creds([]), none), false);
  assert.equal(
    evaluate(parseCheck('field:port:device_owner=~^network:'), { device_owner: 'network:dhcp' }, creds([]), none),
    true,
  );
  assert.equal(evaluate(parseCheck('tenant_id:%(network:tenant_id)s'), { 'network:tenant_id': 'p1' }, creds([]), none), true);
  for (const bad of ['role:admin or', '(role:admin', 'role:admin )', 'admin', 'and role:x']) {
    assert.throws(() => parseCheck(bad), PolicySyntaxError, bad);
  }
});

test('defaults: members write their own, readers only read, admins everything', () => {
  const policy = Policy.withDefaults(buildRegistry().resources);
  const as = (roles: string[], project = 'p1') => policy.forContext(makeContext({ projectId: project, roles }));
  const own = { project_id: 'p1', tenant_id: 'p1' };
  assert.equal(as(['member']).allows('create_network', own), true);
  assert.equal(as(['reader']).allows('create_network', own), false);
  assert.equal(as(['reader']).allows('get_network', own), true);
  assert.equal(as(['member'], 'p2').allows('update_network', own), false);
  assert.equal(as(['admin'], 'p2').allows('update_network', own), true);
  assert.equal(as(['member']).allows('create_network:shared', { ...own, shared: true }), false);
  assert.throws(() => as(['member']).enforce('create_network:shared', own), /create_network:shared/);
  // The network's owner may delete others' ports on it; a member elsewhere may not.
  const port = { project_id: 'p2', tenant_id: 'p2', 'network:project_id': 'p1', 'network:tenant_id': 'p1' };
  assert.equal(as(['member']).allows('delete_port', port), true);
  assert.equal(as(['member'], 'p3').allows('delete_port', port), false);
  assert.equal(as(['member'], 'p2').allows('create_port:device_owner', { ...port, device_owner: 'network:dhcp' }), false);
  assert.equal(as(['member'], 'p2').allows('create_port:device_owner', { ...port, device_owner: 'compute:nova' }), true);
});

test('an operator file overrides rules; a broken one is refused', () => {
  const resources = buildRegistry().resources;
  const open = Policy.withDefaults(resources, { create_network: 'role:reader' });
  assert.equal(
    open.forContext(makeContext({ projectId: 'p1', roles: ['reader'] })).allows('create_network', { project_id: 'p1' }),
    true,
  );
  assert.throws(() => Policy.withDefaults(resources, { create_network: 'role:admin or' }), PolicyFileError);
  assert.throws(() => Policy.withDefaults(resources, { create_network: 'rule:no_such_rule' }), /undefined rule 'no_such_rule'/);
});

test('a verdict no target can change is decided without one; the rest is left to each target', () => {
  const c = parseCheck('(role:admin) or (role:member and project_id:%(project_id)s)');
  assert.equal(decide(c, creds(['admin', 'member']), none), true);
  assert.equal(decide(c, creds(['member']), none), undefined);
  assert.equal(decide(c, creds(['reader']), none), false);
  assert.equal(decide(parseCheck('not role:admin'), creds(['admin']), none), false);
  assert.equal(decide(parseCheck('field:networks:shared=True'), creds(['admin']), none), undefined);
  assert.equal(decide(parseCheck('True:%(shared)s'), creds(['admin']), none), undefined);
  assert.equal(decide(parseCheck('is_admin:True'), creds(['admin']), none), true);
  assert.equal(decide(parseCheck('rule:missing'), creds(['admin']), none), false);
  // Whenever decide answers, evaluate agrees for any target.
  for (const text of ['role:admin and not role:member', '(role:member or !) and @', 'role:reader or project_id:%(project_id)s']) {
    for (const roles of [['admin'], ['member'], ['reader'], []]) {
      const v = decide(parseCheck(text), creds(roles), none);
      if (v === undefined) continue;
      for (const target of [{ project_id: 'p1' }, { project_id: 'p2' }, {}]) {
        assert.equal(evaluate(parseCheck(text), target, creds(roles), none), v, `${text} for ${roles}`);
      }
    }
  }
});
