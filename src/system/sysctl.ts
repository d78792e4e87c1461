// Kernel parameters of a network namespace (`ip netns exec NS sysctl -w key=value`), by checked keys
// and integer values.
import { check, execRunner, type Runner } from './exec.js';
import { inNetns } from './netns.js';
import * as v from './validate.js';

/** Sets integer kernel parameters, in the namespace `netns` (or this one). */
export async function setSysctls(
  netns: string | undefined,
  values: Record<string, number>,
  run: Runner = execRunner,
): Promise<void> {
  const args = ['-q', ...Object.entries(values).flatMap(([k, n]) => ['-w', `${v.sysctlKey(k)}=${v.uint(n)}`])];
  if (args.length === 1) return;
  const [file, argv] = inNetns(netns, 'sysctl', args);
  await check(run, file, argv);
}
