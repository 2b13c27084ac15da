/** rasgate's offline console (docs/console.md): startConsole for the daemon, RecentCalls for its call summaries. */
export { startConsole, type ConsoleOptions, type RunningConsole } from './server.js';
export { gatewaySource, type ConsoleSource, type GatewayLike, type LineStatusLike, type ActiveCallLike, type GuardView, type StatusPayload } from './payloads.js';
export { RecentCalls, type RecentCall, type CallSummaryLike } from './recent.js';
export { LiveStates, type LiveActor, type LiveSnapshot } from './live.js';
export { CallHistories, type CallHistory, type HistoryStep } from './history.js';
export { type ConsoleActions, type ActionOutcome } from './actions.js';
export { type ConsoleHooks, type ConsoleRecord, type Operator, type SignInOptions } from './sign-in.js';
