// The L3 service's errors, with neutron-lib's type names, status codes and words (its
// exceptions/l3.py, extraroute.py, flavors.py and neutron's l3agentscheduler/auto_allocate).

import { NeutronError } from '../../common/errors.js';
import { pyStr } from '../../validation/validators.js';

const e = (type: string, status: number, message: string) => new NeutronError(type, status, message);

/** neutron-lib's BadRequest(resource, msg): "Bad <resource> request: <msg>." */
export const badRequest = (resource: string, msg: string) => e('BadRequest', 400, `Bad ${resource} request: ${msg}.`);

export const l3Errors = {
  routerNotFound: (id: string) => e('RouterNotFound', 404, `Router ${id} could not be found`),
  floatingIpNotFound: (id: string) => e('FloatingIPNotFound', 404, `Floating IP ${id} could not be found`),
  routerInUse: (id: string, reason = 'still has ports') => e('RouterInUse', 409, `Router ${id} ${reason}`),
  routerInterfaceNotFound: (routerId: string, portId: string) =>
    e('RouterInterfaceNotFound', 404, `Router ${routerId} does not have an interface with id ${portId}`),
  routerInterfaceNotFoundForSubnet: (routerId: string, subnetId: string) =>
    e('RouterInterfaceNotFoundForSubnet', 404, `Router ${routerId} has no interface on subnet ${subnetId}`),
  routerInterfaceInUseByFloatingIP: (routerId: string, subnetId: string) =>
    e(
      'RouterInterfaceInUseByFloatingIP',
      409,
      `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`,
    ),
  routerInterfaceInUseByRoute: (routerId: string, subnetId: string) =>
    e(
      'RouterInterfaceInUseByRoute',
      409,
      `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more routes.`,
    ),
  externalGatewayForFloatingIPNotFound: (networkId: string, subnetId: string, portId: string) =>
    e(
      'ExternalGatewayForFloatingIPNotFound',
      404,
      `External network ${networkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
    ),
  floatingIPPortAlreadyAssociated: (fipAddress: string, fipId: string, portId: string, fixedIp: string, netId: string) =>
    e(
      'FloatingIPPortAlreadyAssociated',
      409,
      `Cannot associate floating IP ${fipAddress} (${fipId}) with port ${portId} using fixed IP ${fixedIp}, as that fixed IP already has a floating IP on external network ${netId}.`,
    ),
  routerExternalGatewayInUseByFloatingIp: (routerId: string, netId: string) =>
    e(
      'RouterExternalGatewayInUseByFloatingIp',
      409,
      `Gateway cannot be updated for router ${routerId}, since a gateway to external network ${netId} is required by one or more floating IPs.`,
    ),
  portInUse: (netId: string, portId: string, deviceId: string) =>
    e(
      'PortInUse',
      409,
      `Unable to complete operation on port ${portId} for network ${netId}. Port already has an attached device ${deviceId}.`,
    ),
  servicePortInUse: (portId: string, reason: string) =>
    e('ServicePortInUse', 409, `Port ${portId} cannot be deleted directly via the port API: ${reason}.`),
  externalIpAddressExhausted: (netId: string) =>
    e('ExternalIpAddressExhausted', 400, `Unable to find any IP address on external network ${netId}.`),
  subnetMismatchForPort: (portId: string, subnetId: string) =>
    e('SubnetMismatchForPort', 400, `Subnet on port ${portId} does not match the requested subnet ${subnetId}.`),
  ipAddressChangeNotAllowed: (portId: string) =>
    e('IPAddressChangeNotAllowed', 400, `IP updates for port ${portId} are not allowed`),
  invalidRoutes: (routes: unknown, reason: string) =>
    e('InvalidRoutes', 400, `Invalid format for routes: ${pyStr(routes)}, ${reason}`),
  routesExhausted: (routerId: string, quota: number) =>
    e('RoutesExhausted', 400, `Unable to complete operation for ${routerId}. The number of routes exceeds the maximum ${quota}.`),
  invalidInput: (msg: string) => e('InvalidInput', 400, `Invalid input for operation: ${msg}.`),
  // L3 agent scheduler.
  agentNotFound: (id: string) => e('AgentNotFound', 404, `Agent ${id} could not be found.`),
  invalidL3Agent: (id: string) => e('InvalidL3Agent', 404, `Agent ${id} is not a L3 Agent or has been disabled`),
  routerHostedByL3Agent: (routerId: string, agentId: string) =>
    e('RouterHostedByL3Agent', 409, `The router ${routerId} has been already hosted by the L3 Agent ${agentId}.`),
  routerL3AgentMismatch: (routerId: string, agentId: string) =>
    e('RouterL3AgentMismatch', 409, `Cannot host distributed router ${routerId} on legacy L3 agent ${agentId}.`),
  dvrL3CannotAssignToDvrAgent: () =>
    e('DVRL3CannotAssignToDvrAgent', 409, "Not allowed to manually assign a router to an agent in 'dvr' mode."),
  dvrL3CannotRemoveFromDvrAgent: () =>
    e('DVRL3CannotRemoveFromDvrAgent', 409, "Not allowed to manually remove a router from an agent in 'dvr' mode."),
  // Flavors and service profiles.
  flavorNotFound: (id: string) => e('FlavorNotFound', 404, `Flavor ${id} could not be found.`),
  flavorInUse: (id: string) => e('FlavorInUse', 409, `Flavor ${id} is used by some service instance.`),
  serviceProfileNotFound: (id: string) => e('ServiceProfileNotFound', 404, `Service Profile ${id} could not be found.`),
  serviceProfileInUse: (id: string) => e('ServiceProfileInUse', 409, `Service Profile ${id} is used by some service instance.`),
  bindingExists: (spId: string, flavorId: string) =>
    e('FlavorServiceProfileBindingExists', 409, `Service Profile ${spId} is already associated with flavor ${flavorId}.`),
  bindingNotFound: (spId: string, flavorId: string) =>
    e('FlavorServiceProfileBindingNotFound', 404, `Service Profile ${spId} is not associated with flavor ${flavorId}.`),
  driverNotFound: (driver: string) =>
    e('ServiceProfileDriverNotFound', 404, `Service Profile driver ${driver} could not be found.`),
  serviceProfileEmpty: () => e('ServiceProfileEmpty', 400, 'Service Profile needs either a driver or metainfo.'),
  serviceProfileDisabled: () => e('ServiceProfileDisabled', 503, 'Service Profile is not enabled.'),
  flavorDisabled: () => e('FlavorDisabled', 503, 'Flavor is not enabled.'),
  // Auto-allocated topology.
  autoAllocationFailure: (reason: string) => e('AutoAllocationFailure', 409, `Deployment error: ${reason}.`),
  defaultExternalNetworkExists: (netId: string) =>
    e('DefaultExternalNetworkExists', 409, `A default external network already exists: ${netId}.`),
};
