// oslo.messaging's transport URL for RabbitMQ: rabbit://user:pass@host:port[,user:pass@host2:port2…]/vhost
// Several hosts are tried in turn (oslo's round-robin failover). Credentials and the virtual host
// are percent-decoded; a host without credentials takes the previous host's (guest/guest for the
// first), a missing port is 5672, an empty virtual host is RabbitMQ's default '/'.

export interface AmqpHost {
  hostname: string;
  port: number;
  username: string;
  password: string;
}

export interface AmqpUrl {
  hosts: AmqpHost[];
  vhost: string;
  /** Query parameters (oslo accepts driver options there); unknown ones are ignored. */
  query: Record<string, string>;
}

export class TransportUrlError extends Error {}

const decode = (s: string, what: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new TransportUrlError(`bad percent-encoding in the ${what} of the transport URL`);
  }
};

/** The URL with its passwords masked, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/([,/]{1,2}[^:@/,]*:)[^@/,]*@/g, '$1***@');
}

export function parseAmqpUrl(url: string): AmqpUrl {
  const m = /^([a-z0-9+]+):\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) throw new TransportUrlError(`not a transport URL: ${redactUrl(url)}`);
  const scheme = m[1].toLowerCase();
  if (scheme !== 'rabbit' && scheme !== 'amqp' && scheme !== 'kombu+rabbit') {
    throw new TransportUrlError(`transport URL scheme '${scheme}' is not RabbitMQ's (rabbit://)`);
  }
  const hosts: AmqpHost[] = [];
  let username = 'guest';
  let password = 'guest';
  for (const part of m[2].split(',')) {
    if (part === '') throw new TransportUrlError(`empty host in the transport URL ${redactUrl(url)}`);
    let hostport = part;
    const at = part.lastIndexOf('@');
    if (at >= 0) {
      const creds = part.slice(0, at);
      hostport = part.slice(at + 1);
      const colon = creds.indexOf(':');
      username = decode(colon >= 0 ? creds.slice(0, colon) : creds, 'user name');
      password = colon >= 0 ? decode(creds.slice(colon + 1), 'password') : '';
    }
    const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(hostport);
    if (!hp) throw new TransportUrlError(`bad host '${hostport}' in the transport URL`);
    const port = hp[3] === undefined ? 5672 : Number(hp[3]);
    if (port < 1 || port > 65535) throw new TransportUrlError(`bad port ${port} in the transport URL`);
    hosts.push({ hostname: hp[1] ?? hp[2], port, username, password });
  }
  const vhost = decode(m[3] ?? '', 'virtual host') || '/';
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(m[4] ?? '')) query[k] = v;
  return { hosts, vhost, query };
}
