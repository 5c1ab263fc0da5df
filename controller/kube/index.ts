// The generic Kubernetes runtime of the controller: REST client, informer, work queue,
// leader election and controller-runtime metrics. Nothing here knows HotDeployments.
export {
  KubeClient,
  type KubeClientOptions,
  type ReadOptions,
  type ListOptions,
  type WatchOptions,
  type WriteOptions,
  type PatchOptions,
  type PatchType,
  type DeleteOptions,
} from './client.ts';
export { loadKubeConfig, endpointOf, Credentials, type Endpoint } from './kubeconfig.ts';
export {
  Informer,
  type InformerClient,
  type InformerHandlers,
  type InformerHealth,
  type InformerOptions,
} from './informer.ts';
export { Store, diffRelist, type IndexFunc, type RelistDiff } from './store.ts';
export { WorkQueue, type WorkQueueOptions } from './workqueue.ts';
export {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './rateLimiter.ts';
export { LeaderElector, type LeaderElectorOptions, type LeaseClient } from './leader.ts';
export {
  decide,
  microTime,
  observe,
  releaseSpec,
  type LeaderDecision,
  type LeaseSpec,
} from './leaderDecision.ts';
export {
  controllerMetrics,
  counter,
  gauge,
  histogram,
  exponentialBuckets,
  RECONCILE_RESULTS,
  type ControllerMetrics,
  type ReconcileResult,
} from './metrics.ts';
export { TokenBucket, type TokenBucketOptions } from './tokenBucket.ts';
export { backoffMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export { FakeClock, sleep, systemClock, type Clock, type TimerHandle } from './clock.ts';
export {
  objectKey,
  type KubeError,
  type KubeList,
  type KubeObject,
  type KubeResult,
  type KubeStatus,
  type ObjectMeta,
  type WatchEvent,
  type WatchEventType,
} from './types.ts';
