// Neutron's errors: every failure the API returns is one of these, rendered as
// {"NeutronError": {"type", "message", "detail"}} with Neutron's type name and status code.

export class NeutronError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly detail = '',
  ) {
    super(message);
  }
}

const make = (type: string, status: number) => (message: string) => new NeutronError(type, status, message);

export const badRequest = (message: string) => new NeutronError('HTTPBadRequest', 400, message);
export const invalidInput = (message: string) =>
  new NeutronError('InvalidInput', 400, `Invalid input for operation: ${message}.`);
export const policyNotAuthorized = (rule: string) =>
  new NeutronError('PolicyNotAuthorized', 403, `(rule:${rule}) is disallowed by policy`);
export const httpNotFound = (message = 'The resource could not be found.') => new NeutronError('HTTPNotFound', 404, message);

/** `<Resource> <id> could not be found.` with the resource's own type name (NetworkNotFound …). */
export function notFound(typePrefix: string, label: string, id: string): NeutronError {
  return new NeutronError(`${typePrefix}NotFound`, 404, `${label} ${id} could not be found.`);
}

export const errors = {
  networkInUse: (id: string) =>
    make(
      'NetworkInUse',
      409,
    )(`Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`),
  subnetInUse: (id: string, reason = 'One or more ports have an IP allocation from this subnet.') =>
    make('SubnetInUse', 409)(`Unable to complete operation on subnet ${id}: ${reason}`),
  addressScopeInUse: (id: string) =>
    make(
      'AddressScopeInUse',
      409,
    )(`Unable to complete operation on address scope ${id}. There are one or more subnet pools in use on the address scope.`),
  ipAddressAlreadyAllocated: (ip: string, subnetId: string) =>
    make('IpAddressAlreadyAllocated', 409)(`IP address ${ip} already allocated in subnet ${subnetId}`),
  ipAddressGenerationFailure: (netId: string) =>
    make('IpAddressGenerationFailure', 409)(`No more IP addresses available on network ${netId}.`),
  invalidIpForSubnet: (ip: string) =>
    make('InvalidIpForSubnet', 400)(`IP address ${ip} is not a valid IP for the specified subnet.`),
  invalidIpForNetwork: (ip: string) =>
    make('InvalidIpForNetwork', 400)(`IP address ${ip} is not a valid IP for any of the subnets on the specified network.`),
  macAddressInUse: (mac: string, netId: string) =>
    make('MacAddressInUse', 409)(`Unable to complete operation for network ${netId}. The mac address ${mac} is in use.`),
  macAddressGenerationFailure: (netId: string) =>
    make('MacAddressGenerationFailure', 503)(`Unable to generate unique mac on network ${netId}.`),
  revisionConstraint: (expected: number, current: number) =>
    new NeutronError(
      'RevisionNumberConstraintFailed',
      412,
      `Constrained to ${expected}, but current revision is ${current}`,
      `Constrained to ${expected}, but current revision is ${current}`,
    ),
  tagNotFound: (resourceId: string, tag: string) =>
    make('TagNotFound', 404)(`Tag ${tag} could not be found for resource ${resourceId}.`),
  gatewayIpInUse: (ip: string, portId: string) =>
    make('GatewayIpInUse', 409)(`Current gateway ip ${ip} already in use by port ${portId}. Unable to update.`),
  dnsNameserversExhausted: (subnetId: string, quota: number) =>
    make(
      'DNSNameServersExhausted',
      400,
    )(`Unable to complete operation for ${subnetId}. The number of DNS nameservers exceeds the limit ${quota}.`),
  hostRoutesExhausted: (subnetId: string, quota: number) =>
    make(
      'HostRoutesExhausted',
      400,
    )(`Unable to complete operation for ${subnetId}. The number of host routes exceeds the limit ${quota}.`),
  allowedAddressPairExhausted: (quota: number) =>
    make('AllowedAddressPairExhausted', 400)(`The number of allowed address pair exceeds the maximum ${quota}.`),
  duplicateAddressPair: (pair: string) =>
    make(
      'DuplicateAddressPairInRequest',
      400,
    )(`Request contains duplicate address pair: mac_address ${pair.split('|')[0]} ip_address ${pair.split('|')[1]}.`),
  addressPairAndPortSecurityRequired: () =>
    make(
      'AddressPairAndPortSecurityRequired',
      409,
    )('Port Security must be enabled in order to have allowed address pairs on a port.'),
  allocationOnAutoAddressSubnet: (ip: string, subnetId: string) =>
    make(
      'AllocationOnAutoAddressSubnet',
      400,
    )(
      `IPv6 address ${ip} cannot be directly assigned to a port on subnet ${subnetId} as the subnet is configured for automatic addresses`,
    ),
  prefixVersionMismatch: () => make('PrefixVersionMismatch', 400)('Cannot mix IPv4 and IPv6 prefixes in a subnet pool.'),
  illegalSubnetPoolPrefixUpdate: (msg: string) =>
    make('IllegalSubnetPoolPrefixUpdate', 400)(`Illegal update to prefixes: ${msg}.`),
  illegalSubnetPoolPrefixBounds: (msg: string) => make('IllegalSubnetPoolPrefixBounds', 400)(msg),
  illegalSubnetPoolIpVersionAssociationToAddressScope: (poolId: string, scopeId: string, ipVersion: number) =>
    make(
      'IllegalSubnetPoolIpVersionAssociationToAddressScope',
      400,
    )(
      `Illegal subnetpool association: subnetpool ${poolId} cannot associate with address scope ${scopeId} because subnetpool ip_version is not ${ipVersion}.`,
    ),
  addressScopePrefixConflict: () =>
    make(
      'AddressScopePrefixConflict',
      409,
    )('Failed to associate address scope: subnetpools within an address scope must have unique prefixes.'),
  subnetPoolQuotaExceeded: () => make('SubnetPoolQuotaExceeded', 409)('Per-tenant subnet pool prefix quota exceeded.'),
  maxPrefixSubnetAllocationError: (prefixlen: number, maxPrefixlen: number) =>
    make(
      'MaxPrefixSubnetAllocationError',
      400,
    )(`Unable to allocate subnet with prefix length ${prefixlen}, maximum allowed prefix is ${maxPrefixlen}.`),
  minPrefixSubnetAllocationError: (prefixlen: number, minPrefixlen: number) =>
    make(
      'MinPrefixSubnetAllocationError',
      400,
    )(`Unable to allocate subnet with prefix length ${prefixlen}, minimum allowed prefix is ${minPrefixlen}.`),
  portSecurityAndIpRequiredForSecurityGroups: () =>
    make(
      'PortSecurityAndIPRequiredForSecurityGroups',
      400,
    )('Port security must be enabled and port must have an IP address in order to use security groups.'),
  invalidSharedSetting: (network: string) =>
    make(
      'InvalidSharedSetting',
      409,
    )(`Unable to reconfigure sharing settings for network ${network}. Multiple tenants are using it.`),
  networkMtuTooLarge: (max: number) => invalidInput(`Requested MTU is too big, maximum is ${max}`),
  invalidDhcpAgent: (agentId: string) =>
    make('InvalidDHCPAgent', 404)(`Agent ${agentId} is not a valid DHCP Agent or has been disabled.`),
  networkHostedByDhcpAgent: (networkId: string, agentId: string) =>
    make('NetworkHostedByDHCPAgent', 409)(`The network ${networkId} has been already hosted by the DHCP Agent ${agentId}.`),
  networkNotHostedByDhcpAgent: (networkId: string, agentId: string) =>
    make('NetworkNotHostedByDhcpAgent', 409)(`The network ${networkId} is not hosted by the DHCP Agent ${agentId}.`),
  conflict: (message: string) => new NeutronError('Conflict', 409, message),
  internal: () =>
    new NeutronError('HTTPInternalServerError', 500, 'Request Failed: internal server error while processing your request.'),
};
