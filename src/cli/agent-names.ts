// The agents `all-in-one --agents` can run in the server's process, by name: apart from their
// table (agent.ts) so that the command line can name them without loading any agent.
export const IN_PROCESS_AGENT_NAMES = ['linuxbridge', 'openvswitch', 'dhcp', 'l3'] as const;

export type InProcessAgentName = (typeof IN_PROCESS_AGENT_NAMES)[number];
