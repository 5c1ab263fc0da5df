// What a person reads: one progress line per window (stderr) and a table at the end
// (stdout, unless --json). Pure: strings from values.
import type { Mode } from './options.ts';
import { locateGap, type ModeSummary, type WindowResult } from './summary.ts';

const ms = (n: number): string => `${Math.round(n * 10) / 10} ms`;

/** "slot upgrade 3/20 v3->v4: gap 4 ms (in upgrade), failed 0, p99 5.2 ms, 1998 req/s, serving after 310 ms (takeover 2 ms)" */
export function windowLine(w: WindowResult, of: number): string {
  const r = w.report;
  const g = locateGap(w);
  const rate = r.durationMs > 0 ? Math.round((r.sent / r.durationMs) * 1000) : 0;
  const head =
    w.kind === 'upgrade' && w.upgrade
      ? `${w.mode} upgrade ${w.index}/${of} ${w.upgrade.from}->${w.upgrade.to}`
      : `${w.mode} ${w.kind} ${w.index}/${of}`;
  const parts = [
    `gap ${ms(g.gapMs)}${w.upgrade ? (g.duringUpgrade ? ' (in upgrade)' : ' (outside upgrade: noise)') : ''}`,
    `failed ${r.failed}${r.failed > 0 ? ` ${JSON.stringify(r.failureReasons)}` : ''}`,
    `p99 ${ms(r.latencyMs.p99)}`,
    `${rate} req/s`,
  ];
  if (r.skipped > 0) parts.push(`skipped ${r.skipped}`);
  if ((r.retried ?? 0) > 0) parts.push(`retried ${r.retried} ${JSON.stringify(r.retryReasons)}`);
  if (r.sessionsLost > 0) parts.push(`sessions lost ${r.sessionsLost}`);
  const u = w.upgrade;
  if (u) {
    const h = u.handover;
    parts.push(
      `serving after ${u.servingAtMs - u.triggerAtMs} ms${h ? ` (drain ${h.drainMs} ms, takeover ${h.takeoverMs} ms)` : ''}`,
    );
  }
  return `${head}: ${parts.join(', ')}`;
}

const pad = (s: string, n: number): string => s.padEnd(n);

/** The end-of-run table, one row per mode. */
export function table(modes: Partial<Record<Mode, ModeSummary>>): string {
  const cols = [
    'mode',
    'upgrades',
    'requests',
    'req/s',
    'failed',
    'retried',
    'lost',
    'max gap',
    'median gap',
    'p99 (max/median)',
    'baseline p99',
    'baseline max gap',
  ];
  const rows = (Object.entries(modes) as Array<[Mode, ModeSummary]>).map(([mode, m]) => [
    mode,
    String(m.upgrades),
    String(m.requests),
    String(m.rateRps),
    String(m.failed),
    String(m.retried),
    String(m.sessionsLost),
    ms(m.maxGapMs),
    ms(m.medianGapMs),
    `${ms(m.p99Ms)} / ${ms(m.p99MedianMs)}`,
    ms(m.baselineP99Ms),
    ms(m.baselineMaxGapMs),
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [cols, ...rows].map((r) => r.map((c, i) => pad(c, widths[i] ?? 0)).join('  ')).join('\n');
}
