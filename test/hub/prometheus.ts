// A real Prometheus for the hub's gates (test/e2e/prometheus.ts: Debian's
// /usr/bin/prometheus as a child process on a free port, in a temporary directory,
// stopped by PID) scraping the test's exporter every second, and a wait for a query to
// return the value the test just set.
import { setTimeout as sleep } from 'node:timers/promises';
import { startPrometheus, type Prometheus } from '../e2e/prometheus.ts';
import type { Exporter } from './exporter.ts';

export type { Prometheus };

/** The scrape job of the exporter. */
export const EXPORTER_JOB = 'hub-test-exporter';

/**
 * Prometheus scraping `exporter` every second. Its pod discovery (which test/e2e needs)
 * looks at a namespace nothing runs in, on the hub's API server.
 */
/** The scrape job of the hub processes. */
export const HUB_JOB = 'hotupgrade-hub';

export async function startGatePrometheus(o: {
  kubeconfig: string;
  exporter: Exporter;
  /** The hub's /metrics port on 127.0.0.1, scraped too (the chart's alert rules are loaded). */
  hubPort: number;
}): Promise<Prometheus> {
  const prom = await startPrometheus({
    kubeconfig: o.kubeconfig,
    namespaces: ['hub-test-no-pods'],
    scrapeIntervalMs: 1000,
    // honor_labels: the exporter's `cluster` label is what the gates select on.
    // The hub's series name releases by `namespace` and `hotrelease`: honour them too.
    extraScrape: [
      { job: EXPORTER_JOB, targets: [o.exporter.target], honorLabels: true },
      { job: HUB_JOB, targets: [`127.0.0.1:${o.hubPort}`], honorLabels: true },
    ],
  });
  try {
    await prom.waitForTargets({ job: EXPORTER_JOB, timeoutMs: 30_000 });
  } catch (e) {
    await prom.stop();
    throw e;
  }
  return prom;
}

/** Polls `query` until it answers one series whose value is `value`; throws after timeoutMs (default 15 s). */
export async function waitForValue(
  prom: Prometheus,
  query: string,
  value: number,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await prom.query(query);
      last = JSON.stringify(r.map((s) => s.value[1]));
      if (r.length === 1 && Number(r[0]?.value[1]) === value) return;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(`${query} did not return ${value} within ${timeoutMs} ms; last answer ${last}`);
    }
    await sleep(200);
  }
}
