// The hotupgrade SDK for Node business servers. See docs/protocol.md.
export { serveHot, type ServeOptions, type HotServe } from './serve.ts';
export { attachShared, type SharedRegion } from './shm.ts';
export { Participant, type ServeHooks, type ParticipantOptions } from './participant.ts';
export { readSlotConfig, parseListen, ConfigError, type SlotConfig } from './config.ts';
export { readVolume, isActiveLockHeld, isSlotAlive, type VolumeView, type SlotView } from './volume.ts';
export { summarize, type Summary, type HandoverPhase } from './handover.ts';
export * from './constants.ts';
export * from './versionFile.ts';
