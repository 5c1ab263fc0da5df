// Renders the dashboard (dashboard.ts) as Grafana dashboard JSON (schemaVersion 39,
// Grafana 10/11): a `datasource` variable so it works with any Prometheus, `namespace`
// and `hotdeployment` variables from the HotDeployments the controller reports, and the
// rows laid out left to right on Grafana's 24-column grid.
import type { Panel, Row, ValueText } from './dashboard.ts';
import { HD_TARGET_LABEL } from './selectors.ts';

export const DASHBOARD_UID = 'hotupgrade';
export const DASHBOARD_TITLE = 'hotupgrade: releases';
const SCHEMA_VERSION = 39;
const GRID_COLUMNS = 24;

type Json = Record<string, unknown>;

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function queryVariable(name: string, label: string, query: string): Json {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2, // on time range change: HotDeployments come and go
    includeAll: true,
    multi: true,
    // `.*` rather than a list of every value: the regex stays short with many HotDeployments.
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    sort: 1,
    hide: 0,
    skipUrlSync: false,
  };
}

export const TEMPLATING: Json[] = [
  {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    options: [],
    refresh: 1,
    regex: '',
    hide: 0,
    skipUrlSync: false,
  },
  queryVariable('namespace', 'Namespace', 'label_values(hotupgrade_rollout_phase, namespace)'),
  queryVariable(
    'hotdeployment',
    'HotDeployment',
    'label_values(hotupgrade_rollout_phase{namespace=~"$namespace"}, name)',
  ),
];

function valueMappings(m: ValueText[] | undefined): Json[] {
  if (!m?.length) return [];
  const options: Json = {};
  m.forEach((v, index) => (options[String(v.value)] = { text: v.text, color: v.color, index }));
  return [{ type: 'value', options }];
}

function fieldDefaults(p: Panel): Json {
  const steps = [{ color: 'green', value: null }, ...(p.thresholds ?? [])];
  const d: Json = {
    unit: p.unit,
    mappings: valueMappings(p.mappings),
    thresholds: { mode: 'absolute', steps },
    color: { mode: p.type === 'timeseries' ? 'palette-classic' : 'thresholds' },
  };
  if (p.unit === 'percentunit') Object.assign(d, { min: 0, max: 1 });
  if (p.type === 'timeseries') {
    d.custom = {
      drawStyle: p.bars ? 'bars' : 'line',
      lineWidth: 1,
      fillOpacity: p.stack || p.bars ? 60 : 10,
      showPoints: 'never',
      spanNulls: false,
      stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
      axisSoftMin: 0,
    };
  }
  if (p.type === 'state-timeline') d.custom = { fillOpacity: 80, lineWidth: 0 };
  return d;
}

function options(p: Panel): Json {
  const reduce = { calcs: ['lastNotNull'], fields: '', values: false };
  switch (p.type) {
    case 'stat':
      return {
        reduceOptions: reduce,
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'center',
        textMode: 'value',
        orientation: 'auto',
      };
    case 'bargauge':
      return {
        reduceOptions: reduce,
        orientation: 'horizontal',
        displayMode: 'gradient',
        showUnfilled: true,
        valueMode: 'color',
      };
    case 'state-timeline':
      return {
        mergeValues: true,
        showValue: 'auto',
        alignValue: 'left',
        rowHeight: 0.9,
        legend: { showLegend: false, displayMode: 'list', placement: 'bottom' },
        tooltip: { mode: 'single', sort: 'none' },
      };
    case 'timeseries':
      return {
        legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
  }
}

function panelJson(p: Panel, id: number, gridPos: Json): Json {
  // Stats and bar gauges show one value: an instant query is enough.
  const instant = p.type === 'stat' || p.type === 'bargauge';
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      range: !instant,
      instant,
      editorMode: 'code',
    })),
    fieldConfig: { defaults: fieldDefaults(p), overrides: [] },
    options: options(p),
  };
}

/** Rows and panels with ids and positions: each row's panels fill lines of 24 columns. */
export function layout(rows: Row[]): Json[] {
  const out: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    out.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: GRID_COLUMNS, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 12;
      const h = p.height ?? 8;
      if (x + w > GRID_COLUMNS) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      out.push(panelJson(p, id++, { h, w, x, y }));
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return out;
}

export function renderDashboard(rows: Row[]): Json {
  return {
    uid: DASHBOARD_UID,
    title: DASHBOARD_TITLE,
    description: `Hot upgrades in progress: rollouts, batches, handovers and the controller. Sidecar panels need the pods scraped with the ${HD_TARGET_LABEL} target label (docs/operations.md#dashboard).`,
    tags: ['hotupgrade', 'kubernetes'],
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1, // shared crosshair: line up a phase change with the handovers it caused
    fiscalYearStartMonth: 0,
    liveNow: false,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    weekStart: '',
    links: [],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: { list: TEMPLATING },
    panels: layout(rows),
  };
}
