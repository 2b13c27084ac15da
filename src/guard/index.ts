/** The guessing defence: account lockout, per-source and per-line penalties, their state file. */
export { Guard, type GuardSettings, type GuardOptions, type GuardClock } from './guard.js';
export { accountKey, type AccountEntry } from './lockout.js';
export type { PenaltyEntry } from './penalties.js';
export type { LinePause } from './line-pause.js';
export { sourceOf, maskAddress, UNKNOWN_CALLER, type Source } from './source.js';
export { statePath, readState, clearInFile, STATE_FILE, type ClearTarget, type GuardState } from './state.js';
export { lockoutFields, penaltyFields, type LockoutSettings, type PenaltySettings } from './options.js';
