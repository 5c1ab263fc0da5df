import { defineConfig } from 'vitest/config';

// Three projects: `unit` (beside the code, no processes), `protocol` (the conformance
// suite: real processes over a temporary shared volume) and `cluster` (real
// Kubernetes built from upstream modules; see test/cluster/README.md).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '{sdk,launcher,placeholder,sidecar,controller,hub,demo,bench,scripts,monitoring,plugin}/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'protocol',
          include: ['test/protocol/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      './test/cluster/vitest.config.ts',
    ],
  },
});
