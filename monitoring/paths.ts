// Where the generated monitoring files live (written by gen.ts, shipped by the chart
// under files/, loaded by test/e2e/prometheus.ts). No imports beyond node: cheap to use.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FILES_DIR = join(ROOT, 'charts/hotupgrade/files');
/** The Grafana dashboard (uid hotupgrade). */
export const DASHBOARD_FILE = join(FILES_DIR, 'grafana-dashboard.json');
/** The alerting rules: `groups:`, for promtool and as a PrometheusRule's spec. */
export const RULES_FILE = join(FILES_DIR, 'prometheus-rules.yaml');
