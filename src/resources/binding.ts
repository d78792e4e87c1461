// Port binding (neutron-lib's portbindings definition): where and how a port is plugged. The
// host and profile are the admin's (Nova's) to set and see, vif_type and vif_details ML2's
// answer; the diagnostics say, to the admin only, why a binding failed and what a port that is
// not ACTIVE yet still waits for.
import { virtual } from './attr.js';
import type { ExtensionDef } from './types.js';
import { UNSET } from './types.js';

/** neutron-lib's VNIC_TYPES. */
export const VNIC_TYPES = [
  'normal',
  'direct',
  'macvtap',
  'baremetal',
  'direct-physical',
  'virtio-forwarder',
  'smart-nic',
  'vdpa',
  'accelerator-direct',
  'accelerator-direct-physical',
  'remote-managed',
];

export const BINDING_EXTENSIONS: ExtensionDef[] = [
  {
    alias: 'binding',
    name: 'Port Binding',
    description: 'Expose port bindings of a virtual port to external application',
    updated: '2014-02-03T10:00:00-00:00',
    attributes: {
      ports: {
        'binding:host_id': virtual('PUVF', {
          default: UNSET,
          adminOnly: true,
          validate: { type: 'type:string_or_none', arg: 255 },
        }),
        'binding:vnic_type': virtual('PUVF', { default: 'normal', validate: { type: 'type:values', arg: VNIC_TYPES } }),
        'binding:profile': virtual('PUV', { default: UNSET, adminOnly: true, validate: { type: 'type:dict_or_none' } }),
        'binding:vif_type': virtual('V', { adminOnly: true }),
        'binding:vif_details': virtual('V', { adminOnly: true }),
      },
    },
  },
  {
    alias: 'port-mac-override',
    name: 'Neutron Port MAC address override',
    description: 'Allow overriding the MAC address of a direct-physical Port via the active binding profile',
    updated: '2022-03-18T10:00:00-00:00',
    requiredExtensions: ['binding'],
  },
  {
    alias: 'port-binding-diagnostics',
    name: 'Port binding diagnostics',
    description:
      "Neutrino: why a port's binding failed (binding_failure_reason) and which entities a port still waits for before it is ACTIVE (provisioning_blocks); admin only.",
    updated: '2026-11-26T00:00:00-00:00',
    requiredExtensions: ['binding'],
    attributes: {
      ports: {
        binding_failure_reason: virtual('V', { adminOnly: true }),
        provisioning_blocks: virtual('V', { adminOnly: true }),
      },
    },
  },
];
