/**
 * Time for lines and the simulated modem: the shape of xstate's Clock, so tests pass one
 * SimulatedClock to the machine, the transport and the simulated modem alike.
 */
export interface LineClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  /** Milliseconds on this clock (SimulatedClock.now(), or performance.now() for real time). */
  now(): number;
}

export const realClock: LineClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** Resolve after `ms` on the given clock. */
export function sleep(clock: LineClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
