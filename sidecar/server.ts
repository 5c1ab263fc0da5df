// The sidecar's entry point: configuration from the environment, listen, and stop within
// a second on SIGTERM/SIGINT (the kubelet's grace period is the pod's, not ours).
import { buildApp, defaultLogger } from './app.ts';
import { ConfigError, readConfig, type SidecarConfig } from './config.ts';

/** Hard bound on a graceful close, in ms. */
const CLOSE_TIMEOUT_MS = 1_000;

function loadConfig(): SidecarConfig {
  try {
    return readConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hotupgrade-sidecar: bad configuration: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = defaultLogger(config.pod);
  const app = buildApp({ dir: config.dir, rescanMs: config.rescanMs, pod: config.pod, log });

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'stopping');
    setTimeout(() => {
      log.warn({ timeoutMs: CLOSE_TIMEOUT_MS }, 'close took too long: exiting');
      process.exit(0);
    }, CLOSE_TIMEOUT_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    log.error(
      { err, host: config.host, port: config.port },
      `cannot listen on ${config.host}:${config.port}: free the port or set HOTUPGRADE_SIDECAR_PORT / HOTUPGRADE_SIDECAR_HOST`,
    );
    process.exit(1);
  }
  log.info(
    { dir: config.dir, host: config.host, port: config.port, rescanMs: config.rescanMs },
    'sidecar listening',
  );
}

await main();
