// The mechanism manager: the `[ml2] mechanism_drivers` in their configured order. Binding asks
// each driver in turn until one binds; postcommit hooks run on every driver, and a driver that
// fails there is logged, not allowed to stop the others (the change is already committed).
import { NeutronError } from '../../common/errors.js';
import { ConfigError } from '../../config/load.js';
import type { Dict } from '../service.js';
import {
  type AgentView,
  type MechanismDriver,
  type PortChange,
  type PortContext,
  VIF_TYPE_BINDING_FAILED,
} from './mech/driver.js';
import { LinuxBridgeMechanismDriver } from './mech/linuxbridge.js';
import { OpenvswitchMechanismDriver } from './mech/openvswitch.js';
import type { Segment } from './segment.js';

/** The outcome of one binding attempt, as stored with the port. */
export interface BindingResult {
  vifType: string;
  vifDetails: Dict;
  /** Set when bound: the segment and the driver that bound it (binding level 0). */
  segment?: Segment;
  driver?: string;
  /** When binding failed: every driver's reason, for the admin and the log. */
  failure?: string;
}

export interface BindRequest {
  port: Dict;
  original?: Dict;
  network: Dict;
  host: string;
  vnicType: string;
  segments: Segment[];
  agents: AgentView[];
}

export interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Neutron's MechanismDriverError (neutron.plugins.ml2.common.exceptions): a 500. */
export function mechanismDriverError(method: string): NeutronError {
  return new NeutronError('MechanismDriverError', 500, `${method} failed.`);
}

export type DriverFactory = (options: { portFilter: boolean }) => MechanismDriver;

/** Drivers known by name; l2population is added by the plugin, which gives it the notifier. */
export const MECHANISM_DRIVERS: Record<string, DriverFactory> = {
  linuxbridge: ({ portFilter }) => new LinuxBridgeMechanismDriver(portFilter),
  openvswitch: ({ portFilter }) => new OpenvswitchMechanismDriver(portFilter),
};

export class MechanismManager {
  constructor(
    readonly drivers: MechanismDriver[],
    private readonly log?: Logger,
  ) {}

  static fromConfig(
    names: string[],
    extra: Record<string, MechanismDriver>,
    portFilter: boolean,
    log?: Logger,
  ): MechanismManager {
    const drivers = names.map((name) => {
      if (extra[name]) return extra[name];
      const factory = MECHANISM_DRIVERS[name];
      if (!factory) {
        const known = [...Object.keys(MECHANISM_DRIVERS), ...Object.keys(extra)].join(', ');
        throw new ConfigError(`[ml2] mechanism_drivers: unknown driver '${name}' (known: ${known})`);
      }
      return factory({ portFilter });
    });
    return new MechanismManager(drivers, log);
  }

  /** Asks the drivers in order; the first `setBinding` wins. Never throws for an unbindable port. */
  bind(req: BindRequest): BindingResult {
    const { result, reasons } = this.attempt(req);
    if (result) return result;
    if (req.segments.length === 0) reasons.unshift(`network ${req.network.id} has no segments`);
    if (this.drivers.every((d) => !d.bindPort)) reasons.push('no mechanism driver that binds ports is configured');
    const failure = reasons.join('; ') || 'no mechanism driver could bind the port';
    this.log?.warn(
      { port_id: req.port.id, host: req.host, reason: failure },
      `Failed to bind port ${req.port.id} on host ${req.host}`,
    );
    return { vifType: VIF_TYPE_BINDING_FAILED, vifDetails: {}, failure };
  }

  /** Whether a port of `req` could be bound (Neutron's filter_hosts_with_network_access asks this
   * of a network and a host before scheduling a DHCP agent there); binds and logs nothing. */
  canBind(req: BindRequest): boolean {
    return this.attempt(req).result !== undefined;
  }

  private attempt(req: BindRequest): { result?: BindingResult; reasons: string[] } {
    const reasons: string[] = [];
    let result: BindingResult | undefined;
    for (const driver of this.drivers) {
      if (!driver.bindPort) continue;
      const ctx: PortContext = {
        current: req.port,
        original: req.original,
        network: req.network,
        host: req.host,
        vnicType: req.vnicType,
        segmentsToBind: req.segments,
        hostAgents: (type) => req.agents.filter((a) => a.agent_type === type && a.host === req.host),
        setBinding: (segmentId, vifType, vifDetails) => {
          if (result) return;
          const segment = req.segments.find((s) => s.id === segmentId);
          result = { vifType, vifDetails, segment, driver: driver.name };
        },
        refuse: (reason) => reasons.push(reason),
      };
      driver.bindPort(ctx);
      if (result) return { result, reasons };
    }
    return { reasons };
  }

  /** Calls every driver, even after one fails (each has its own side effects to carry out);
   * returns the names of those that failed, each logged. */
  private async each(hook: string, call: (d: MechanismDriver) => Promise<void> | undefined, subject: Dict): Promise<string[]> {
    const failed: string[] = [];
    for (const d of this.drivers) {
      try {
        await call(d);
      } catch (err) {
        failed.push(d.name);
        this.log?.error({ err, driver: d.name, id: subject.id }, `Mechanism driver ${d.name} failed in ${hook}`);
      }
    }
    return failed;
  }

  /** Throws MechanismDriverError when a driver failed: as in Neutron, the caller then deletes the
   * port it has just created (updates and deletes only log, their change stands). */
  async createPortPostcommit(change: PortChange): Promise<void> {
    const failed = await this.each('create_port_postcommit', (d) => d.createPortPostcommit?.(change), change.current);
    if (failed.length) throw mechanismDriverError('create_port_postcommit');
  }

  async updatePortPostcommit(change: PortChange): Promise<void> {
    await this.each('update_port_postcommit', (d) => d.updatePortPostcommit?.(change), change.current);
  }

  async deletePortPostcommit(change: PortChange): Promise<void> {
    await this.each('delete_port_postcommit', (d) => d.deletePortPostcommit?.(change), change.current);
  }

  async deleteNetworkPostcommit(network: Dict): Promise<void> {
    await this.each('delete_network_postcommit', (d) => d.deleteNetworkPostcommit?.(network), network);
  }
}
