// prom-client's default process metrics (RSS, CPU, heap, file descriptors, GC), minus the
// event loop lag collector: it runs perf_hooks.monitorEventLoopDelay, a libuv timer that
// wakes the process every 10 ms, and the sidecar must cost no CPU when idle.
// collectDefaultMetrics() cannot leave one collector out, so each is loaded by name;
// prom-client has no "exports" map, so these paths are public to require().
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';

const require = createRequire(import.meta.url);

type Collector = (registry: Registry, config: Record<string, unknown>) => void;

/** Every default collector of prom-client 15 except eventLoopLag. */
export const PROCESS_COLLECTORS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
] as const;

export function collectProcessMetrics(registry: Registry): void {
  for (const name of PROCESS_COLLECTORS) {
    const collect = require(`prom-client/lib/metrics/${name}.js`) as Collector;
    collect(registry, {});
  }
}
