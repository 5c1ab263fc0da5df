// How busy the machine was during the run, beside our own processes: the benchmark
// shares 2 cores with builds and clusters, and its figures mean little without this.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Aggregate CPU time counters from the first line of /proc/stat, in clock ticks. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Parses the "cpu ..." line of /proc/stat: idle and iowait are idle, everything else is busy. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate "cpu" line');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = f.slice(0, 8).reduce((s, x) => s + (x || 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** Percent of all cores busy between two samples. */
export function busyPct(a: CpuTimes, b: CpuTimes): number {
  const total = b.total - a.total;
  return total > 0 ? Math.round(((b.busy - a.busy) / total) * 1000) / 10 : 0;
}

export function sampleCpu(): CpuTimes {
  return parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
}

/**
 * A short hash of the code under test (every non-test .ts file of `dirs`): the tree is
 * edited by others while the benchmark runs, so a result names the code it measured.
 */
export function codeHash(root: string, dirs: readonly string[]): string {
  const h = crypto.createHash('sha256');
  for (const d of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(root, d), { recursive: true, encoding: 'utf8' });
    } catch {
      continue;
    }
    for (const n of names.filter((x) => x.endsWith('.ts') && !x.endsWith('.test.ts')).sort()) {
      h.update(`${d}/${n}\0`);
      h.update(fs.readFileSync(path.join(root, d, n)));
    }
  }
  return h.digest('hex').slice(0, 12);
}

export const loadavg = (): number[] => os.loadavg().map((n) => Math.round(n * 100) / 100);
