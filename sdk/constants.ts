// Every name the protocol fixes, in one place: paths inside the shared volume, the
// environment a slot reads, and the defaults of its deadlines. docs/protocol.md is the
// normative text; these values must match it.

/** Protocol version written into every version file. */
export const PROTOCOL_VERSION = 1;

/** Paths relative to the shared volume (HOTUPGRADE_DIR). */
export const PATHS = {
  /** The active lock: an OFD write lock on the whole file is held by the one process that serves. */
  activeLock: 'active.lock',
  /** One version file per slot: slots/<slot>.json, replaced atomically by rename(2). */
  slotsDir: 'slots',
  /** One liveness file per slot: slots/<slot>.alive, read-locked for its writer's whole life. */
  aliveSuffix: '.alive',
  versionSuffix: '.json',
  /** Binary mode: binaries/<version>/ staged by the placeholder slot, complete once manifest.json exists. */
  binariesDir: 'binaries',
  manifest: 'manifest.json',
} as const;

/** Environment variables a slot process reads (downward API and literal values in the pod spec). */
export const ENV = {
  dir: 'HOTUPGRADE_DIR',
  slot: 'HOTUPGRADE_SLOT',
  version: 'HOTUPGRADE_VERSION',
  activeSlot: 'HOTUPGRADE_ACTIVE_SLOT',
  mode: 'HOTUPGRADE_MODE',
  handoverDeadlineMs: 'HOTUPGRADE_HANDOVER_DEADLINE_MS',
  drainTimeoutMs: 'HOTUPGRADE_DRAIN_TIMEOUT_MS',
  probationMs: 'HOTUPGRADE_PROBATION_MS',
  listen: 'HOTUPGRADE_LISTEN',
  /** Set by the launcher for its child: the control channel descriptor and the inherited listeners. */
  controlFd: 'HOTUPGRADE_CONTROL_FD',
  listenFds: 'HOTUPGRADE_LISTEN_FDS',
  shmDir: 'HOTUPGRADE_SHM_DIR',
  shutdownDelayMs: 'HOTUPGRADE_SHUTDOWN_DELAY_MS',
} as const;

export const DEFAULTS = {
  dir: '/hotupgrade',
  shmDir: '/dev/shm',
  /** How long a successor waits for the active lock after announcing, in ms. */
  handoverDeadlineMs: 60_000,
  /** How long a draining predecessor waits for its connections to finish, in ms. */
  drainTimeoutMs: 5_000,
  /** A successor that dies within this many ms of taking over is rejected by its predecessor, in ms. */
  probationMs: 30_000,
  /**
   * On SIGTERM while serving (the pod is being deleted, nobody takes over): how long to
   * keep serving before draining, in ms, so that Services stop sending first.
   */
  shutdownDelayMs: 0,
  /** After a drain, a keep-alive connection idle this long is closed, in ms (requests on it are forwarded until then). */
  idleCloseMs: 1_000,
  /** Backstop re-read of the slots directory when no inotify event arrives, in ms. */
  rescanMs: 1_000,
  /** Version files larger than this are malformed, in bytes. */
  maxVersionFileBytes: 64 * 1024,
} as const;

/**
 * The `version` the placeholder program writes when HOTUPGRADE_VERSION is empty (the
 * controller sets "" for the placeholder slot): a version file's version must be 1-256
 * characters. Its state, `placeholder`, is what says that the placeholder runs.
 */
export const PLACEHOLDER_VERSION = 'placeholder';

/** Slot names: short DNS-label-like words, so they can be part of container and file names. */
export const SLOT_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
