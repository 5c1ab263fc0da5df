// Reads the shared volume, diffs it with the previous look, logs each transition once and
// feeds the metrics. It runs on every watchSlots change and on every HTTP request, so a
// readiness answer is never older than the request. Reading never changes the volume.
import fs from 'node:fs';
import path from 'node:path';
import { PATHS } from '../sdk/constants.ts';
import type { Summary } from '../sdk/handover.ts';
import type { Logger } from '../sdk/log.ts';
import { readVolume, type VolumeView } from '../sdk/volume.ts';
import { watchSlots } from '../sdk/watch.ts';
import { diff, EMPTY_MEMORY, type Memory, type Transition } from './diff.ts';
import { describe } from './logLine.ts';
import type { SidecarMetrics } from './metrics.ts';

export interface ObserverOptions {
  /** The shared volume. */
  dir: string;
  log: Logger;
  metrics: SidecarMetrics;
  now: () => number;
  /** Backstop re-read of the volume, in ms; also how soon a dead process is noticed. */
  rescanMs: number;
}

export interface Look {
  view: VolumeView;
  summary: Summary;
  observedAtMs: number;
}

export class Observer {
  /** Events with timestamps before this (ms) happened before the sidecar and are not counted. */
  readonly sinceMs: number;
  readonly handovers = { completed: 0, failed: 0 };
  private readonly o: ObserverOptions;
  private memory: Memory = EMPTY_MEMORY;
  private stopWatch: (() => void) | undefined;
  /** inotify needs the slots directory; until a slot creates it, only the rescan runs. */
  private watchingDir = false;
  private pending = false;

  constructor(options: ObserverOptions) {
    this.o = options;
    this.sinceMs = options.now();
  }

  /** One look at the volume: transitions are logged and counted, the view is returned. */
  refresh(): Look {
    const view = readVolume(this.o.dir);
    const observedAtMs = this.o.now();
    const { transitions, memory, summary } = diff(this.memory, view, this.sinceMs);
    this.memory = memory;
    for (const t of transitions) this.count(t);
    this.o.metrics.record(transitions, view, summary);
    for (const t of transitions) {
      const line = describe(t, this.o.dir);
      this.o.log[line.level](line.fields, line.msg);
    }
    if (!this.watchingDir && this.stopWatch && this.slotsDirExists()) this.watch();
    return { view, summary, observedAtMs };
  }

  start(): void {
    if (this.stopWatch) return;
    this.watch();
    this.refresh();
  }

  stop(): void {
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  private watch(): void {
    this.stopWatch?.();
    this.watchingDir = this.slotsDirExists();
    this.stopWatch = watchSlots(this.o.dir, this.o.rescanMs, () => this.schedule());
  }

  /** One write to a version file is several inotify events; they coalesce into one look. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (!this.stopWatch) return;
      try {
        this.refresh();
      } catch (err) {
        // A bug, not an input: readVolume and diff never throw on a bad volume.
        this.o.log.error({ err }, 'observing the shared volume failed');
      }
    });
  }

  private count(t: Transition): void {
    if (t.kind === 'handover') this.handovers.completed++;
    else if (t.kind === 'failed' || t.kind === 'rejected') this.handovers.failed++;
  }

  private slotsDirExists(): boolean {
    try {
      return fs.statSync(path.join(this.o.dir, PATHS.slotsDir)).isDirectory();
    } catch {
      return false;
    }
  }
}
