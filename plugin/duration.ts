// Durations as the command line spells them. Pure.

/** A Go-style duration ("90s", "5m", "1h30m", "500ms") or plain seconds ("30"), in ms; undefined when malformed. */
export function parseDuration(raw: string): number | undefined {
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let ms = 0;
  let rest = raw;
  if (rest === '') return undefined;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ms|h|m|s)/.exec(rest);
    if (!m) return undefined;
    ms += Number(m[1]) * (unit[m[2] ?? ''] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return Math.round(ms);
}
