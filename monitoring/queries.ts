// Every query of the dashboard and every alert's base query, with Grafana's template
// variables replaced, so they run against Prometheus directly: the e2e test asserts each
// returns data during a rollout, alerts.test.ts has promtool parse them.
import { ALERTS, type Alert } from './alerts.ts';
import { ROWS, type Row } from './dashboard.ts';
import { VARS } from './selectors.ts';

export interface QueryVars {
  /** Namespaces to show (exact names); all when absent or empty. */
  namespace?: string | string[];
  /** HotDeployment names to show; all when absent or empty. */
  hotdeployment?: string | string[];
  /** For $__rate_interval (default 1m: at least four scrapes at a 15 s interval). */
  rateInterval?: string;
  /** For $__range, the dashboard's time range (default 15m). */
  range?: string;
}

export interface NamedQuery {
  /** `dashboard/<panel id>/<refId>` or `alert/<alert name>`. */
  id: string;
  expr: string;
}

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** Like Grafana does for a multi-value variable inside `=~"..."`: `(a|b)`, or `.*` for All. */
function regexValue(v: string | string[] | undefined): string {
  const list = typeof v === 'string' ? [v] : (v ?? []);
  if (list.length === 0) return '.*';
  // Inside a PromQL string a backslash is itself escaped.
  const alts = list.map((x) => escapeRegex(x).replace(/\\/g, '\\\\'));
  return alts.length === 1 ? (alts[0] ?? '') : `(${alts.join('|')})`;
}

/** `expr` with the dashboard's template variables replaced. */
export function substitute(expr: string, vars: QueryVars = {}): string {
  const values: [string, string][] = [
    [VARS.rateInterval, vars.rateInterval ?? '1m'],
    [VARS.range, vars.range ?? '15m'],
    [VARS.hotdeployment, regexValue(vars.hotdeployment)],
    [VARS.namespace, regexValue(vars.namespace)],
  ];
  let out = expr;
  for (const [name, value] of values) out = out.split(name).join(value);
  return out;
}

export function dashboardQueries(vars: QueryVars = {}, rows: Row[] = ROWS): NamedQuery[] {
  return rows.flatMap((r) =>
    r.panels.flatMap((p) =>
      p.queries.map((q, i) => ({
        id: `dashboard/${p.id}/${String.fromCharCode(65 + i)}`,
        expr: substitute(q.expr, vars),
      })),
    ),
  );
}

/** Alerts whose series every member cluster has (the hub's exist only where it runs). */
export const MEMBER_ALERTS = ALERTS.filter((a) => a.component !== 'hub');

export function alertQueries(alerts: Alert[] = MEMBER_ALERTS): NamedQuery[] {
  return alerts.map((a) => ({ id: `alert/${a.name}`, expr: a.base }));
}

/** Every dashboard query and every member alert's base query, each named after its panel or alert. */
export function allQueries(vars: QueryVars = {}): NamedQuery[] {
  return [...dashboardQueries(vars), ...alertQueries()];
}
