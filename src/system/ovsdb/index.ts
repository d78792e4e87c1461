// OVSDB (RFC 7047) spoken natively: JSON-RPC over a unix or TCP socket, a monitored replica, and
// the Open_vSwitch schema's bridges, ports and interfaces.
export * from './client.js';
export * as ovsdbData from './data.js';
export * from './jsonrpc.js';
export * from './vswitch.js';
