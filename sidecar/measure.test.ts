import { describe, expect, it } from 'vitest';
import { cpuTicks, measureIdle, statusMb } from './measure.ts';

describe('measure', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    const stat = '42 (node (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 11 0 500 1000 2000';
    expect(cpuTicks(stat)).toBe(10);
  });

  it('reads a kB field of /proc/<pid>/status in MiB', () => {
    expect(statusMb('Name:\tnode\nVmRSS:\t   20480 kB\nRssAnon:\t 1024 kB\n', 'VmRSS')).toBe(20);
    expect(() => statusMb('Name:\tnode\n', 'VmRSS')).toThrow('VmRSS');
  });

  it('measures a live process', async () => {
    const r = await measureIdle(process.pid, 0.05);
    expect(r.rssMb).toBeGreaterThan(1);
    expect(r.anonRssMb).toBeLessThanOrEqual(r.rssMb);
    expect(r.peakRssMb).toBeGreaterThanOrEqual(r.rssMb);
    expect(r.cpuPct).toBeGreaterThanOrEqual(0);
  });
});
