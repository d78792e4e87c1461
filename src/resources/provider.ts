// The provider and multi-provider extensions (neutron-lib's provider_net and multiprovidernet):
// which physical or overlay segments a network maps onto. Admin-only to set and to see.
import { virtual } from './attr.js';
import type { ExtensionDef } from './types.js';
import { UNSET } from './types.js';

export const PROVIDER_EXTENSIONS: ExtensionDef[] = [
  {
    alias: 'provider',
    name: 'Provider Network',
    description: 'Expose mapping of virtual networks to physical networks',
    updated: '2012-09-07T10:00:00-00:00',
    attributes: {
      networks: {
        'provider:network_type': virtual('PUVF', { default: UNSET, validate: { type: 'type:string', arg: 32 }, adminOnly: true }),
        'provider:physical_network': virtual('PUVF', {
          default: UNSET,
          validate: { type: 'type:string', arg: 64 },
          adminOnly: true,
        }),
        'provider:segmentation_id': virtual('PUVF', { default: UNSET, convertTo: 'convert_to_int', adminOnly: true }),
      },
    },
  },
  {
    alias: 'multi-provider',
    name: 'Multi Provider Network',
    description: 'Expose mapping of virtual networks to multiple physical networks',
    updated: '2013-06-27T10:00:00-00:00',
    attributes: {
      // Accepted on update, as Neutron does, and ignored there.
      networks: { segments: virtual('PUV', { default: UNSET, convertTo: 'convert_network_segments', adminOnly: true }) },
    },
  },
];
