// `ethtool` feature switches, optionally in a network namespace (`ip netns exec NS ethtool …`).
import { check, execRunner, type Runner } from './exec.js';
import { inNetns } from './netns.js';
import * as v from './validate.js';

/** Turns TX checksum offload off on `dev`: a veth read by Open vSwitch's userspace datapath
 * (AF_PACKET) otherwise hands on frames whose checksum was left to a NIC that isn't there, and TCP
 * stalls (shared/netlab). */
export async function txChecksumOff(dev: string, { netns, run = execRunner }: { netns?: string; run?: Runner } = {}) {
  const [file, argv] = inNetns(netns || undefined, 'ethtool', ['-K', v.device(dev), 'tx', 'off']);
  await check(run, file, argv);
}
