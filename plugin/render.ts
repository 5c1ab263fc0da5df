// A StatusSummary as the lines `status` prints: images, counts, the batch with a progress
// bar, conditions, pods by version. Pure (the clock comes in as nowMs).
import { CONDITIONS } from '../controller/constants.ts';
import type { StatusSummary } from './summary.ts';

/** Characters of a progress bar between its brackets. */
export const BAR_WIDTH = 20;

/** `[#####...............] 5/20`: `done` of `total`, rounded down so that a bar is full only when done. */
export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map(
    (r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '),
  );
}

/** 75 -> "1m15s": the age of an upgrade in flight. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}

const ROLLOUT_WORDS: Record<string, string> = {
  None: 'none',
  Hot: 'hot upgrade (in place)',
  Recreate: 'recreating pods (template change)',
};

/** At most this many pods are listed under "Upgrading" (a 1,000-pod batch is summed up). */
const MAX_LISTED = 10;

const label = (s: string): string => (s ? `${s}:` : '').padEnd(12);

export function renderStatus(s: StatusSummary, nowMs: number): string[] {
  const out: string[] = [];
  out.push(`hotdeployment/${s.name} in namespace ${s.namespace}`);
  out.push(`${label('Image')}${s.image} (version ${s.version}, container ${s.hotContainer})`);
  if (s.currentImage && s.currentImage !== s.image) out.push(`${label('From')}${s.currentImage}`);

  if (s.observedGeneration === undefined) {
    out.push(`${label('Status')}none yet: the controller has not seen this HotDeployment (is it running?)`);
  } else if (s.observedGeneration !== s.generation) {
    out.push(
      `${label('Status')}of generation ${s.observedGeneration}; the spec is at ${s.generation} (the controller is catching up)`,
    );
  }

  const r = s.replicas;
  out.push(
    `${label('Replicas')}${r.desired} desired, ${r.current} current, ${r.ready} ready, ${r.updated} updated, ${r.upgrading} upgrading`,
  );
  if (s.rolloutKind !== undefined) {
    const done = s.rolloutKind === 'None' ? 'complete' : (ROLLOUT_WORDS[s.rolloutKind] ?? s.rolloutKind);
    out.push(`${label('Rollout')}${done}${s.paused ? ', paused by spec.updateStrategy.paused' : ''}`);
    out.push(`${label('Progress')}${progressBar(r.updated, s.inRange)} pods at ${s.version}`);
  }
  const b = s.batch;
  if (b && s.rolloutKind === 'Hot') {
    out.push(`${label('Batch')}${b.number}/${b.total} ${b.state}  ${progressBar(b.updated, b.target)}`);
    if (b.state === 'Paused' && b.pauseEndsAt)
      out.push(`${label('')}batch ${b.number + 1} starts at ${b.pauseEndsAt}`);
  }

  if (s.conditions.length > 0) {
    out.push('Conditions:');
    const order: string[] = [
      CONDITIONS.available,
      CONDITIONS.progressing,
      CONDITIONS.paused,
      CONDITIONS.degraded,
    ];
    const conds = [...s.conditions].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
    out.push(...table(conds.map((c) => [c.type, c.status, c.reason, c.message])));
  }

  if (s.pods.length > 0 || s.terminating > 0) {
    out.push('Pods by version:');
    out.push(
      ...table([
        ['VERSION', 'PODS', 'READY', 'IMAGE'],
        ...s.pods.map((g) => [g.version, String(g.pods), String(g.ready), g.image]),
      ]),
    );
    if (s.terminating > 0) out.push(`  and ${s.terminating} terminating`);
  }
  if (s.upgrading.length > 0) {
    out.push('Upgrading:');
    const shown = s.upgrading.slice(0, MAX_LISTED);
    out.push(
      ...table(
        shown.map((u) => {
          const started = Date.parse(u.startedAt);
          return [u.pod, `${u.from} -> ${u.to}`, Number.isNaN(started) ? '' : `for ${age(nowMs - started)}`];
        }),
      ),
    );
    if (s.upgrading.length > shown.length) out.push(`  and ${s.upgrading.length - shown.length} more`);
  }
  if (s.failures.length > 0) {
    out.push(`Failed handovers of ${s.version}:`);
    const shown = s.failures.slice(0, MAX_LISTED);
    out.push(...table(shown.map((f) => [f.pod, f.reason, f.message])));
    if (s.failures.length > shown.length) out.push(`  and ${s.failures.length - shown.length} more`);
  }
  if (s.next) out.push(`${label('Next')}${s.next}`);
  return out;
}
