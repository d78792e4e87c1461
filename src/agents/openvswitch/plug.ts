// A VM's port on an Open vSwitch bridge, as os-vif plugs it for Nova: the device as a port of the
// integration bridge whose interface carries `external_ids` iface-id (the Neutron port), attached-mac,
// iface-status and vm-uuid — what the OVS agent recognises a VM port by. The port starts on the dead
// VLAN (os-vif's isolate_vif), so it carries nothing until the agent has its flows in and tags it.
import { VSwitch, valid } from '../../system/index.js';
import { DEAD_VLAN } from './names.js';

export interface OvsPlug {
  bridge: string;
  device: string;
  portId: string;
  mac: string;
  /** The instance (Nova's vm-uuid), if any. */
  deviceId?: string;
}

/** Adds the device to the bridge (or moves it there, or updates its external_ids). */
export async function plugOvsPort(vs: VSwitch, p: OvsPlug): Promise<void> {
  const snap = vs.snapshot();
  valid.device(p.bridge);
  valid.device(p.device);
  const externalIds: Record<string, string> = {
    'attached-mac': valid.mac(p.mac),
    'iface-id': p.portId,
    'iface-status': 'active',
    ...(p.deviceId ? { 'vm-uuid': p.deviceId } : {}),
  };
  if (!snap.bridges.has(p.bridge)) throw new Error(`Open vSwitch bridge ${p.bridge} does not exist (is the agent running?)`);
  const on = snap.portBridge.get(p.device);
  const iface = snap.interfaces.get(p.device);
  if (on === p.bridge && iface) {
    const same = Object.entries(externalIds).every(([k, val]) => iface.external_ids[k] === val);
    if (!same) await vs.apply([{ op: 'setInterface', name: p.device, externalIds: { ...iface.external_ids, ...externalIds } }]);
    return;
  }
  await vs.apply([
    ...(on ? [{ op: 'delPort' as const, bridge: on, name: p.device }] : []),
    { op: 'addPort', bridge: p.bridge, name: p.device, externalIds, tag: DEAD_VLAN },
  ]);
}

/** Removes the device's port from whichever bridge holds it; absent is fine. */
export async function unplugOvsPort(vs: VSwitch, device: string): Promise<boolean> {
  const on = vs.snapshot().portBridge.get(valid.device(device));
  if (!on) return false;
  await vs.apply([{ op: 'delPort', bridge: on, name: device }]);
  return true;
}

/** Runs `fn` with a connection to the ovsdb-server at `target`, closed afterwards. */
export async function withVSwitch<T>(target: string, fn: (vs: VSwitch) => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const vs = new VSwitch(target, { timeoutMs });
  try {
    await vs.start().catch((err: Error) => {
      throw new Error(`ovsdb-server ${target}: ${err.message}`);
    });
    return await fn(vs);
  } finally {
    vs.close();
  }
}
