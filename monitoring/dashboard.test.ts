import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpYaml } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ROWS } from './dashboard.ts';
import { DASHBOARD_FILE } from './paths.ts';
import { DASHBOARD_UID } from './grafana.ts';
import { promtool, promtoolMissing } from './promtool.ts';
import { dashboardQueries } from './queries.ts';

interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}
interface PanelJson {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource: { uid: string } }[];
}
interface DashboardJson {
  uid: string;
  schemaVersion: number;
  panels: PanelJson[];
  templating: { list: { name: string; type: string; query: unknown; allValue?: string }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as DashboardJson;
const panels = dashboard.panels.filter((p) => p.type !== 'row');

describe('the Grafana dashboard (charts/hotupgrade/files/grafana-dashboard.json)', () => {
  it('has the uid, schema version and variables Grafana provisioning and the panels rely on', () => {
    expect(dashboard.uid).toBe(DASHBOARD_UID);
    expect(dashboard.schemaVersion).toBe(39);
    const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.namespace).toMatchObject({ type: 'query', allValue: '.*' });
    expect(JSON.stringify(vars.namespace?.query)).toContain(
      'label_values(hotupgrade_rollout_phase, namespace)',
    );
    expect(vars.hotdeployment).toMatchObject({ type: 'query', allValue: '.*' });
    expect(JSON.stringify(vars.hotdeployment?.query)).toContain('label_values(hotupgrade_rollout_phase{');
  });

  it('gives every panel and row a unique id', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('places every panel inside the 24-column grid without overlaps', () => {
    const cells = new Map<string, string>();
    for (const p of dashboard.panels) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      expect(Math.min(g.x, g.y, g.w - 1, g.h - 1), p.title).toBeGreaterThanOrEqual(0);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`;
          expect(cells.get(cell), `${p.title} overlaps ${cells.get(cell)} at ${cell}`).toBeUndefined();
          cells.set(cell, p.title);
        }
    }
  });

  it('gives every panel a description and a query on the chosen data source', () => {
    expect(panels.length).toBeGreaterThan(15);
    for (const p of panels) {
      expect(p.description, p.title).toBeTruthy();
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.expr, `${p.title} ${t.refId}`).toBeTruthy();
        expect(t.datasource.uid).toBe('${datasource}');
      }
    }
  });

  it('filters every per-HotDeployment series by the namespace and hotdeployment variables', () => {
    // hotupgrade_pod_upgrade_duration_seconds has no HotDeployment labels: the one exception.
    const global = new Set(['hotupgrade_pod_upgrade_duration_seconds_bucket']);
    let checked = 0;
    for (const p of panels)
      for (const t of p.targets ?? [])
        for (const [, metric, matchers] of t.expr.matchAll(/(hotupgrade_\w+)\{([^}]*)\}/g)) {
          if (!metric || global.has(metric)) continue;
          checked++;
          expect(matchers, `${p.title}: ${metric}`).toMatch(
            /namespace=~"\$namespace", (name|hotdeployment)=~"\$hotdeployment"/,
          );
        }
    expect(checked).toBeGreaterThan(20);
  });

  it('shows every panel of a release the issue asks for', () => {
    const titles = panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const want of [
      'rollouts in progress',
      'batch progress',
      'pods by version',
      'handover duration',
      'failed handovers',
      'rollbacks',
      'reconcile errors',
      'work queue depth',
      'leader',
    ])
      expect(titles).toContain(want);
  });

  it('documents every panel in docs/operations.md#dashboard', () => {
    const doc = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Dashboard\n'), doc.indexOf('\n## Alerts\n'));
    expect(section.length).toBeGreaterThan(100);
    for (const row of ROWS) for (const p of row.panels) expect(section, p.title).toContain(`**${p.title}**`);
  });
});

const skip = promtoolMissing();

describe.skipIf(skip)('dashboard queries, checked by promtool', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hotupgrade-dashboard-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('every query parses: promtool check rules, each query as a recording rule', async () => {
    const queries = dashboardQueries({ namespace: ['shop', 'a.b'], hotdeployment: 'cart' });
    const rules = queries.map((q) => ({
      record: `hotupgrade:${q.id.replace(/[^a-zA-Z0-9_]/g, '_')}`,
      expr: q.expr,
    }));
    const file = join(tmp, 'dashboard-queries.yaml');
    writeFileSync(file, dumpYaml({ groups: [{ name: 'dashboard', rules }] }, { lineWidth: -1 }));
    const r = await promtool(['check', 'rules', file]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
