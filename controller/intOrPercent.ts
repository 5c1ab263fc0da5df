// Counts given as a number of pods or a percentage of replicas ("25%"), resolved the
// way Deployments resolve them.
import type { IntOrPercent } from './api/types.ts';

/** A count, or a percent of `total`; rounded up for batch sizes, down for maxUnavailable. */
export function resolveIntOrPercent(
  v: IntOrPercent | undefined,
  total: number,
  round: 'up' | 'down',
): number | null {
  if (v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  const m = /^(\d{1,3})%$/.exec(v.trim());
  if (!m) return /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
  const pct = Number(m[1]);
  if (pct > 100) return null;
  const exact = (pct * total) / 100;
  return round === 'up' ? Math.ceil(exact) : Math.floor(exact);
}
