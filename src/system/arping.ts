// Gratuitous ARP (iputils `arping -U`): a device announcing an address it just took (a router's
// gateway or floating address), so the neighbours' caches point at its MAC at once rather than
// after their entries expire. Only checked addresses and device names reach the command line.
import { execRunner, type Runner, SystemError } from './exec.js';
import { inNetns } from './netns.js';
import * as v from './validate.js';

/** Sends `count` unsolicited ARPs for the IPv4 `address` out of `dev` (in `netns`), one a second
 * apart, and resolves when arping is done (count seconds at most). */
export async function sendGratuitousArp(
  netns: string | undefined,
  dev: string,
  address: string,
  count = 1,
  run: Runner = execRunner,
): Promise<void> {
  const args = ['-U', '-I', v.device(dev), '-c', v.uint(count, 100), '-w', v.uint(count + 1, 101), v.ipv4(address)];
  const [file, argv] = inNetns(netns, 'arping', args);
  const r = await run(file, argv, { timeoutMs: (count + 5) * 1000 });
  // arping -U expects no reply: status 1 ("no reply") is its normal end.
  if (r.code !== 0 && r.code !== 1) throw new SystemError([file, ...argv].join(' '), r.code, r.stderr);
}
