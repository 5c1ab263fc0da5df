import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Real Kubernetes built from upstream modules (see test/cluster/README.md). Suites start
// their own clusters, so files run one at a time: the single node tier owns the
// host-wide CNI bridge and iptables chains.
export default defineConfig({
  test: {
    name: 'cluster',
    // Paths below are relative to the repo root whether run from there or as a project.
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/{cluster,nodesim,controller,chart,e2e,hub,plugin}/**/*.test.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
  },
});
