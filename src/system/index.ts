// Typed, safe wrappers around the OS tools the agents use (DESIGN.md principle 4). Imports nothing
// of ours.
export * from './arping.js';
export * from './bridge.js';
export * from './conntrack.js';
export * from './dnsmasq.js';
export * from './ethtool.js';
export * from './exec.js';
export * from './files.js';
export * from './ip.js';
export * from './monitor.js';
export * from './netns.js';
export * from './nft.js';
export * from './nft-ruleset.js';
export * from './ofctl.js';
export * from './ovsdb/index.js';
export * from './process.js';
export * from './sysctl.js';
export * as valid from './validate.js';
