// Network namespaces: list, create, delete (`ip netns`), by checked names.
import { check, execRunner, type Runner } from './exec.js';
import * as v from './validate.js';

export async function listNetns(run: Runner = execRunner): Promise<string[]> {
  const out = await check(run, 'ip', ['-j', 'netns', 'list']);
  return out.trim() ? (JSON.parse(out) as Array<{ name: string }>).map((n) => n.name) : [];
}

export async function netnsExists(name: string, run: Runner = execRunner): Promise<boolean> {
  return (await listNetns(run)).includes(v.netns(name));
}

/** Creates the namespace with its loopback up. */
export async function addNetns(name: string, run: Runner = execRunner): Promise<void> {
  await check(run, 'ip', ['netns', 'add', v.netns(name)]);
  await check(run, 'ip', ['-n', name, 'link', 'set', 'dev', 'lo', 'up']);
}

/** Deletes the namespace (its devices go with it; veth peers elsewhere too); absent is fine. */
export async function delNetns(name: string, run: Runner = execRunner): Promise<void> {
  const r = await run('ip', ['netns', 'del', v.netns(name)]);
  if (r.code !== 0 && !/No such file/.test(r.stderr)) await check(run, 'ip', ['netns', 'del', name]);
}

/** Argument array that runs `file args…` inside the namespace (`ip netns exec NS …`), or as is. */
export function inNetns(ns: string | undefined, file: string, args: readonly string[]): [string, string[]] {
  return ns ? ['ip', ['netns', 'exec', v.netns(ns), file, ...args]] : [file, [...args]];
}
