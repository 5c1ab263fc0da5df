// Reading a Prometheus text exposition: one sample, a sum over label sets, and a
// histogram quantile estimated the way PromQL's histogram_quantile does (linear
// interpolation inside the bucket).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m?.[1] || m[4] === undefined) continue;
    const labels = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    out.push({ name: m[1], labels: labels as Record<string, string>, value: Number(m[4]) });
  }
  return out;
}

const matches = (s: Sample, name: string, labels: Record<string, string>): boolean =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** The first sample of `name` carrying `labels` (others may differ), or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return parseSamples(text).find((s) => matches(s, name, labels))?.value;
}

/** The sum of every sample of `name` whose labels pass `keep`. */
export function sumSamples(
  text: string,
  name: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): number {
  return parseSamples(text)
    .filter((s) => s.name === name && keep(s.labels))
    .reduce((a, s) => a + s.value, 0);
}

/** Cumulative bucket counts of a histogram: [upper bound, count] sorted by bound. */
export function buckets(text: string, name: string, labels: Record<string, string> = {}): [number, number][] {
  return parseSamples(text)
    .filter((s) => matches(s, `${name}_bucket`, labels))
    .map((s): [number, number] => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value])
    .sort((a, b) => a[0] - b[0]);
}

/** histogram_quantile(q) over the difference of two scrapes (after - before). */
export function quantileBetween(before: [number, number][], after: [number, number][], q: number): number {
  const diff = after.map(([le, c]): [number, number] => [
    le,
    c - (before.find((b) => b[0] === le)?.[1] ?? 0),
  ]);
  const total = diff[diff.length - 1]?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of diff) {
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, c - prevCount);
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}
