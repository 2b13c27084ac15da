/** rasgate's offline console (docs/console.md): startConsole for the daemon, RecentCalls for its call summaries. */
export { startConsole, type ConsoleOptions, type RunningConsole } from './server.js';
export { gatewaySource, type ConsoleSource, type LineStatusLike, type StatusPayload } from './payloads.js';
export { RecentCalls, type RecentCall, type CallSummaryLike } from './recent.js';
export { LiveStates, type LiveActor, type LiveSnapshot } from './live.js';
