/**
 * Time for lines and the simulated modem: the shape of xstate's Clock, so tests pass one
 * SimulatedClock to the machine, the transport and the simulated modem alike.
 */
export interface LineClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const realClock: LineClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** Resolve after `ms` on the given clock. */
export function sleep(clock: LineClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
