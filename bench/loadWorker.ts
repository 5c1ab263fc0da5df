// The load generator on its own thread, so that the benchmark's own work (spawning
// processes, reading version files) never delays a request or an answer timestamp.
// Messages: {type:"start", options} -> {type:"started", atMs}; {type:"stop"} -> {type:"report", report}.
import { parentPort } from 'node:worker_threads';
import { startLoad, type LoadOptions, type LoadRun } from '../demo/loadgen.ts';

export type ToWorker = { type: 'start'; options: LoadOptions } | { type: 'stop' };

const port = parentPort;
if (!port) throw new Error('bench/loadWorker.ts runs as a worker thread of bench/handover.ts');
let run: LoadRun | undefined;
port.on('message', (m: ToWorker) => {
  if (m.type === 'start') {
    try {
      run = startLoad(m.options);
      // startLoad's report times are relative to its start; this anchors them to the epoch.
      port.postMessage({ type: 'started', atMs: Date.now() });
    } catch (err) {
      port.postMessage({ type: 'error', error: (err as Error).message });
    }
    return;
  }
  const current = run;
  run = undefined;
  if (!current) {
    port.postMessage({ type: 'error', error: 'stop without a running load' });
    return;
  }
  void current.stop().then((report) => port.postMessage({ type: 'report', report }));
});
