// node test/nodesim/cli.ts --kubeconfig F --node N --mode fake|process [...]: runs one
// simulated node until SIGINT/SIGTERM. See README.md for the flags.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { projectCatalog } from './catalog.ts';
import { startNodeSim, type ImageBehaviour } from './index.ts';

const USAGE = `usage: node test/nodesim/cli.ts --kubeconfig FILE --node NAME --mode fake|process [options]
  --namespace NS        watch only NS (repeatable; default all namespaces)
  --bind                bind unscheduled pods to this node (one simulator per cluster)
  --catalog FILE        JSON {"image": {"run": {"argv": [...], "env": {...}}} | {"missing": true} | {"crash": true}}
                        (added to the project catalog: hotupgrade.local/demo:v1..v5, placeholder:dev, sidecar:dev)
  --start-delay-ms N    fake mode: container start time (default 100)
  --crash-after-ms N    how long a crash image runs (default 500)
  --backoff-ms N        initial pull and crash backoff (default 10000; doubles up to 300000)
  --concurrency N       writes in flight at most (default 32)
  --host-ip IP          node InternalIP / pods' hostIP (default 127.0.0.1)
  --keep-node           leave the Node object on exit
  --keep-dir            process mode: keep pod dirs and container logs on exit
  --dir DIR             process mode: root of pod dirs and logs (default a temp dir)
  --log-level LEVEL     pino level (default info)`;

function fail(msg: string): never {
  console.error(`nodesim: ${msg}\n${USAGE}`);
  process.exit(2);
}

function int(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        kubeconfig: { type: 'string' },
        node: { type: 'string' },
        mode: { type: 'string' },
        namespace: { type: 'string', multiple: true },
        bind: { type: 'boolean', default: false },
        catalog: { type: 'string' },
        'start-delay-ms': { type: 'string' },
        'crash-after-ms': { type: 'string' },
        'backoff-ms': { type: 'string' },
        concurrency: { type: 'string' },
        'host-ip': { type: 'string' },
        'keep-node': { type: 'boolean', default: false },
        'keep-dir': { type: 'boolean', default: false },
        dir: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
if (!kubeconfig) fail('--kubeconfig is required (or set KUBECONFIG)');
if (!values.node) fail('--node is required');
if (values.mode !== 'fake' && values.mode !== 'process') fail('--mode must be fake or process');

let images: Record<string, ImageBehaviour> = projectCatalog();
if (values.catalog) {
  try {
    images = {
      ...images,
      ...(JSON.parse(readFileSync(values.catalog, 'utf8')) as Record<string, ImageBehaviour>),
    };
  } catch (err) {
    fail(`--catalog ${values.catalog}: ${(err as Error).message}`);
  }
}
const backoffMs = int('backoff-ms', values['backoff-ms']);
const backoff =
  backoffMs === undefined ? undefined : { initialMs: backoffMs, maxMs: Math.max(backoffMs, 300_000) };

const sim = await startNodeSim({
  kubeconfig,
  nodeName: values.node,
  mode: values.mode,
  images,
  bindUnscheduled: values.bind,
  namespaces: values.namespace,
  startDelayMs: int('start-delay-ms', values['start-delay-ms']),
  crashAfterMs: int('crash-after-ms', values['crash-after-ms']),
  pullBackoff: backoff,
  crashBackoff: backoff,
  concurrency: int('concurrency', values.concurrency),
  hostIP: values['host-ip'],
  keepNode: values['keep-node'],
  keepDir: values['keep-dir'],
  dir: values.dir,
  logLevel: values['log-level'],
}).catch((err: unknown) => {
  console.error(`nodesim: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  console.error(`nodesim: stopping; ${JSON.stringify(sim.stats())}`);
  sim.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
