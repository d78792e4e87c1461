// The core plugin: one service per core resource, wired to each other.
import type { Registry } from '../../resources/registry.js';
import type { TypeManager } from '../ml2/type-manager.js';
import type { ResourceService, ServiceDeps } from '../service.js';
import { AddressScopeService } from './address-scopes.js';
import { NetworkService } from './networks.js';
import { PortService } from './ports.js';
import type { CoreSettings } from './settings.js';
import { SubnetPoolService } from './subnetpools.js';
import { SubnetService } from './subnets.js';

export function createCoreServices(
  registry: Registry,
  deps: ServiceDeps,
  settings: CoreSettings,
  types: TypeManager,
): Map<string, ResourceService> {
  const def = (c: string) => {
    const d = registry.byCollection.get(c);
    if (!d) throw new Error(`resource ${c} is not registered`);
    return d;
  };
  const networks = new NetworkService(def('networks'), deps, types);
  const subnets = new SubnetService(def('subnets'), deps, settings);
  const ports = new PortService(def('ports'), deps, settings);
  const pools = new SubnetPoolService(def('subnetpools'), deps);
  const scopes = new AddressScopeService(def('address_scopes'), deps);
  subnets.networks = networks;
  subnets.pools = pools;
  ports.networks = networks;
  ports.subnets = subnets;
  pools.scopes = scopes;
  pools.networks = networks;
  pools.subnets = subnets;
  return new Map<string, ResourceService>([
    ['networks', networks],
    ['subnets', subnets],
    ['ports', ports],
    ['subnetpools', pools],
    ['address_scopes', scopes],
  ]);
}
