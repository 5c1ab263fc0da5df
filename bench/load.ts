// The benchmark's handle on the load generator thread (bench/loadWorker.ts): start a
// window of load, stop it and get its report. Every wait is bounded.
import { Worker } from 'node:worker_threads';
import type { LoadOptions, LoadReport } from '../demo/loadgen.ts';
import type { ToWorker } from './loadWorker.ts';

type FromWorker =
  | { type: 'started'; atMs: number }
  | { type: 'report'; report: LoadReport }
  | { type: 'error'; error: string };

/** Longest wait for the worker to start or stop a window, in ms (stop waits for requests in flight, bounded by their timeout). */
const REPLY_TIMEOUT_MS = 15_000;

export class LoadThread {
  private readonly worker: Worker;
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;

  constructor() {
    this.worker = new Worker(new URL('./loadWorker.ts', import.meta.url));
    this.worker.on('message', (m: FromWorker) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve(m);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`load generator thread exited with code ${code}`)));
  }

  private fail(err: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
  }

  private ask(msg: ToWorker, what: string): Promise<FromWorker> {
    if (this.waiting)
      return Promise.reject(new Error(`load generator busy: ${what} while another request is pending`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new Error(`load generator did not answer "${what}" within ${REPLY_TIMEOUT_MS} ms`)),
        REPLY_TIMEOUT_MS,
      );
      this.waiting = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.worker.postMessage(msg);
    });
  }

  /** Starts a window; resolves with its start, ms since the epoch. */
  async start(options: LoadOptions): Promise<number> {
    const m = await this.ask({ type: 'start', options }, 'start');
    if (m.type !== 'started')
      throw new Error(`load generator could not start: ${m.type === 'error' ? m.error : m.type}`);
    return m.atMs;
  }

  async stop(): Promise<LoadReport> {
    const m = await this.ask({ type: 'stop' }, 'stop');
    if (m.type !== 'report')
      throw new Error(`load generator could not stop: ${m.type === 'error' ? m.error : m.type}`);
    return m.report;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
