// A tiny Prometheus exporter for the hub's gate tests: GET /metrics answers the gauges the
// test set, in the text exposition format (version 0.0.4), e.g.
//   # TYPE demo_error_ratio gauge
//   demo_error_ratio{cluster="a"} 0.001
// It listens on a free port of 127.0.0.1; close() ends it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exporter {
  /** host:port, as a Prometheus static target. */
  target: string;
  url: string;
  /** Sets gauge `name{labels}` to `value` (NaN and ±Inf are written as Prometheus spells them). */
  set(name: string, labels: Record<string, string>, value: number): void;
  /** Removes the series: the next scrape no longer has it. */
  unset(name: string, labels: Record<string, string>): void;
  /** The body /metrics answers now. */
  render(): string;
  close(): Promise<void>;
}

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

const labelText = (labels: Record<string, string>): string => {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escape(labels[k] ?? '')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

const valueText = (v: number): string =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

export async function startExporter(): Promise<Exporter> {
  // name -> series (label text -> value)
  const gauges = new Map<string, Map<string, number>>();
  const render = (): string => {
    const lines: string[] = [];
    for (const [name, series] of [...gauges].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} A gauge set by the test.`, `# TYPE ${name} gauge`);
      for (const [labels, v] of series) lines.push(`${name}${labels} ${valueText(v)}`);
    }
    return `${lines.join('\n')}\n`;
  };
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
    } else {
      res.writeHead(404).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/metrics`,
    set(name, labels, value) {
      if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name))
        throw new Error(`bad metric name ${JSON.stringify(name)}`);
      let series = gauges.get(name);
      if (!series) gauges.set(name, (series = new Map()));
      series.set(labelText(labels), value);
    },
    unset(name, labels) {
      gauges.get(name)?.delete(labelText(labels));
    },
    render,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
