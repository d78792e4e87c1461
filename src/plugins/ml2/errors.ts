// ML2's errors, with neutron-lib's type names, status codes and messages.
import { invalidInput, NeutronError } from '../../common/errors.js';

export const ml2Errors = {
  noNetworkAvailable: () =>
    new NeutronError('NoNetworkAvailable', 503, 'Unable to create the network. No tenant network is available for allocation.'),
  noNetworkFoundInMaximumAllowedAttempts: () =>
    new NeutronError(
      'NoNetworkFoundInMaximumAllowedAttempts',
      503,
      'Unable to create the network. No available network found in maximum allowed attempts.',
    ),
  vlanIdInUse: (vlanId: number, physnet: string) =>
    new NeutronError(
      'VlanIdInUse',
      409,
      `Unable to create the network. The VLAN ${vlanId} on physical network ${physnet} is in use.`,
    ),
  tunnelIdInUse: (tunnelId: number) =>
    new NeutronError('TunnelIdInUse', 409, `Unable to create the network. The tunnel ID ${tunnelId} is in use.`),
  flatNetworkInUse: (physnet: string) =>
    new NeutronError('FlatNetworkInUse', 409, `Unable to create the flat network. Physical network ${physnet} is in use.`),
  segmentsSetInConjunctionWithProviders: () =>
    new NeutronError('SegmentsSetInConjunctionWithProviders', 400, 'Segments and provider values cannot both be set.'),
  segmentsContainDuplicateEntry: () =>
    new NeutronError('SegmentsContainDuplicateEntry', 400, 'Duplicate segment entry in request.'),
  /** InvalidInput with the type drivers' own reasons. */
  invalid: (reason: string) => invalidInput(reason),
};
