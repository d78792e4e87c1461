// TCP inside a VM namespace for the firewall tests: one small Node process per VM (`ip netns exec
// NS node`) that echoes lines on the ports it listens on, and on request tries a new connection or
// keeps one open and probes it (an established connection that must survive, or be cut). Commands
// and answers are JSON lines on its stdin/stdout; everything has a deadline. It remembers the
// source address of every connection it accepted (what NAT made of the peer).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const SCRIPT = `
const net = require('node:net');
const rl = require('node:readline').createInterface({ input: process.stdin });
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const sessions = new Map();
const seen = [];
const ports = JSON.parse(process.argv[1]);
let listening = 0;
for (const port of ports) {
  net.createServer((s) => {
    seen.push(String(s.remoteAddress).replace(/^::ffff:/, ''));
    s.on('data', (d) => s.write(d)).on('error', () => {});
  }).listen(port, '::', () => {
    if (++listening === ports.length) out({ ready: true });
  });
}
if (ports.length === 0) out({ ready: true });
function echo(sock, ms) {
  return new Promise((ok) => {
    const t = setTimeout(() => { cleanup(); ok(false); }, ms);
    const onData = () => { cleanup(); ok(true); };
    const onErr = () => { cleanup(); ok(false); };
    function cleanup() { clearTimeout(t); sock.off('data', onData); sock.off('error', onErr); sock.off('close', onErr); }
    sock.on('data', onData).on('error', onErr).on('close', onErr);
    sock.write('x\\n');
  });
}
function connect(host, port, ms) {
  return new Promise((ok) => {
    const sock = net.connect({ host, port });
    const t = setTimeout(() => { sock.destroy(); ok(undefined); }, ms);
    sock.once('connect', () => { clearTimeout(t); ok(sock); });
    sock.once('error', () => { clearTimeout(t); ok(undefined); });
  });
}
rl.on('line', async (line) => {
  const c = JSON.parse(line);
  if (c.op === 'try') {
    const sock = await connect(c.host, c.port, c.ms);
    const ok = sock ? await echo(sock, c.ms) : false;
    sock?.destroy();
    out({ id: c.id, ok });
  } else if (c.op === 'open') {
    const sock = await connect(c.host, c.port, c.ms);
    const ok = sock ? await echo(sock, c.ms) : false;
    if (ok) sessions.set(c.session, sock); else sock?.destroy();
    out({ id: c.id, ok });
  } else if (c.op === 'probe') {
    const sock = sessions.get(c.session);
    out({ id: c.id, ok: sock ? await echo(sock, c.ms) : false });
  } else if (c.op === 'seen') {
    out({ id: c.id, ok: true, seen });
  } else if (c.op === 'close') {
    sessions.get(c.session)?.destroy();
    sessions.delete(c.session);
    out({ id: c.id, ok: true });
  }
});
`;

interface Answer {
  ok?: boolean;
  seen?: string[];
}

export class VmTcp {
  private readonly child: ChildProcess;
  private next = 0;
  private readonly waiting = new Map<number, (m: Answer) => void>();
  private readonly ready: Promise<void>;

  /** Starts the helper in `netns`, listening on `ports` (IPv4 and IPv6). */
  constructor(netns: string, ports: number[]) {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', SCRIPT, JSON.stringify(ports)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    this.ready = new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`TCP helper in ${netns} did not start`)), 15_000);
      lines.on('line', (line) => {
        const m = JSON.parse(line) as Answer & { ready?: boolean; id?: number };
        if (m.ready) {
          clearTimeout(t);
          ok();
        } else if (m.id !== undefined) {
          this.waiting.get(m.id)?.(m);
          this.waiting.delete(m.id);
        }
      });
    });
  }

  static async start(netns: string, ports: number[] = []): Promise<VmTcp> {
    const t = new VmTcp(netns, ports);
    await t.ready;
    return t;
  }

  private ask(c: Record<string, unknown>): Promise<Answer> {
    const id = this.next++;
    return new Promise((ok) => {
      this.waiting.set(id, ok);
      this.child.stdin?.write(`${JSON.stringify({ ...c, id })}\n`);
    });
  }

  private async send(c: Record<string, unknown>): Promise<boolean> {
    return Boolean((await this.ask(c)).ok);
  }

  /** The source addresses of the connections accepted so far, oldest first. */
  async seen(): Promise<string[]> {
    return (await this.ask({ op: 'seen' })).seen ?? [];
  }

  /** A new connection to host:port that echoes a line within `ms`. */
  tryConnect(host: string, port: number, ms = 1500): Promise<boolean> {
    return this.send({ op: 'try', host, port, ms });
  }

  /** Opens a connection kept as `session` (true when it echoed). */
  open(session: string, host: string, port: number, ms = 1500): Promise<boolean> {
    return this.send({ op: 'open', session, host, port, ms });
  }

  /** Whether the kept connection still echoes within `ms`. */
  probe(session: string, ms = 1500): Promise<boolean> {
    return this.send({ op: 'probe', session, ms });
  }

  close(session: string): Promise<boolean> {
    return this.send({ op: 'close', session });
  }

  async stop(): Promise<void> {
    // Stopped already (a signal leaves exitCode null): no 'exit' event would come again.
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise((ok) => this.child.once('exit', ok));
    this.child.kill('SIGTERM');
    await done;
  }
}
