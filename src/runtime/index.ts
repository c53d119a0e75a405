// Controller runtime: knows nothing about golden's kinds.
export {
  apiErrorCode,
  apiErrorMessage,
  apiErrorReason,
  apiErrorStatus,
  isAlreadyExists,
  isConflict,
  isGone,
  isInvalid,
  isNotFound,
  isTransient,
  unlessNotFound,
} from "./api-errors.js";
export { Backoff, type BackoffOptions } from "./backoff.js";
export { type Clock, realClock, sleep, type TimerHandle } from "./clock.js";
export { PooledAuth, pooledAuth } from "./connection-pool.js";
export {
  Controller,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileFn,
  TerminalError,
} from "./controller.js";
export {
  EventRecorder,
  type EventRecorderOptions,
  type EventSpec,
  type EventsClient,
  type ObjectRef,
} from "./events.js";
export {
  type Check,
  type CheckResult,
  type HealthServer,
  type HealthServerOptions,
  startHealthServer,
} from "./health.js";
export {
  type AddHandler,
  type DeleteHandler,
  Informer,
  type InformerOptions,
  stripManagedFields,
  type UpdateHandler,
} from "./informer.js";
export { apiGroup, controllerOwner, makeKey, objectKey, splitKey } from "./keys.js";
export {
  applyPatchOptions,
  createThrottle,
  DEFAULT_BURST,
  DEFAULT_QPS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  makeApiClient,
  mergePatchOptions,
  type RawRequest,
  RestClient,
  type RestClientOptions,
  type SendOptions,
  type ThrottleOptions,
} from "./kube.js";
export {
  type LeaderCallbacks,
  LeaderElector,
  type LeaderElectorOptions,
  type LeaseClient,
  type StoppedReason,
  toMicroTime,
} from "./leader-election.js";
export {
  createLogger,
  isLogLevel,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogStream,
  nopLogger,
  serializeError,
} from "./logger.js";
export {
  type LeaderElectionConfig,
  LeaderElectionLostError,
  type ManagedInformer,
  Manager,
  type ManagerOptions,
  type Runnable,
} from "./manager.js";
export {
  type ControllerMetrics,
  Metrics,
  type MetricsOptions,
  type QueueMetrics,
  type ReconcileResultLabel,
} from "./metrics.js";
export {
  defaultControllerRateLimiter,
  ExponentialBackoff,
  MaxOf,
  type RateLimiter,
  type Throttle,
  TokenBucket,
} from "./ratelimit.js";
export { diffRelist, type IndexFunc, type RelistDiff, Store } from "./store.js";
export { type AddOptions, type Handler, type Result, WorkQueue, type WorkQueueOptions } from "./workqueue.js";
