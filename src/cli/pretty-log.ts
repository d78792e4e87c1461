// Log lines for a person at a terminal: pino's JSON turned into `12:04:05.123 INFO  message k=v`,
// the access log as `GET /v2.0/networks 200 3.1 ms`. Anything that is not a TTY gets pino's JSON.

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** pino's own fields, and Fastify's request id (shown short). */
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'method', 'url', 'status', 'ms']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** One JSON log line as text; a line that is not JSON passes unchanged. */
export function prettyLine(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  const [name, tint] = LEVELS[o.level as number] ?? [String(o.level).padEnd(5), ''];
  const t = new Date(typeof o.time === 'number' ? o.time : Date.now());
  const time = `${t.toTimeString().slice(0, 8)}.${String(t.getMilliseconds()).padStart(3, '0')}`;
  let text = String(o.msg ?? '');
  if (o.msg === 'request') text = `${o.method} ${o.url} ${o.status} ${o.ms} ms`;
  const err = o.err as { stack?: string; message?: string } | undefined;
  const rest = Object.entries(o)
    .filter(([k]) => !SKIP.has(k) && k !== 'err')
    .map(([k, v]) => `${k}=${value(v)}`);
  const id = typeof o.reqId === 'string' ? ` [${o.reqId.slice(0, 12)}]` : '';
  const paint = (c: string, s: string) => (color ? `${c}${s}${RESET}` : s);
  return (
    `${paint(DIM, time)} ${paint(tint, name)} ${text}${rest.length ? ` ${paint(DIM, rest.join(' '))}` : ''}${paint(DIM, id)}` +
    (err ? `\n${err.stack ?? err.message}` : '')
  );
}

/** A pino destination that writes pretty lines to `out`. */
export function prettyStream(out: NodeJS.WriteStream = process.stdout): { write(chunk: string): void } {
  const color = out.isTTY === true && !process.env.NO_COLOR;
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) out.write(`${prettyLine(line, color)}\n`);
    },
  };
}
