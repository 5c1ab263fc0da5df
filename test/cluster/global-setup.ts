// vitest globalSetup for the `cluster` project: builds the binaries if they are not cached
// yet (a cold build prints its progress and takes tens of minutes), so the suites only
// start daemons. Clusters themselves are started and stopped by each suite.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLUSTER_DIR } from './config.ts';
import { externalKubeconfig, isCI, missingPrereqs } from './prereqs.ts';

export default function setup(): void {
  if (externalKubeconfig()) {
    console.error(`[cluster] using the cluster in ${externalKubeconfig()}; building nothing`);
    return;
  }
  const missing = missingPrereqs('control-plane');
  if (missing.length) {
    // In CI this fails the run; outside CI the suites skip loudly on their own.
    if (isCI()) throw new Error(`cluster tests need: ${missing.join('; ')}`);
    return;
  }
  const t0 = Date.now();
  const r = spawnSync('bash', [join(CLUSTER_DIR, 'build.sh')], { stdio: 'inherit' });
  if (r.status !== 0)
    throw new Error(`test/cluster/build.sh failed (exit ${r.status}); see its output above`);
  console.error(`[cluster] binaries ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
