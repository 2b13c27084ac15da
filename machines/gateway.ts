/**
 * The gateway daemon's life: idle -> starting -> running <-> reloading -> stopping -> stopped.
 * Orchestration only: starting, reloading and stopping invoke the work src/gateway/daemon.ts
 * provides. A reload asked for during a reload runs once more after it; a stop asked for while
 * starting or reloading waits for that to finish, then stops; a second stop changes nothing; a
 * start that fails goes on to stopping, so that what did open is released.
 */
import { assign, fromPromise, setup } from 'xstate';

export interface GatewayLifeContext {
  /** A reload came while one ran: run again once it is done. */
  reloadAgain: boolean;
  /** Set once a stop was asked for. */
  stopReason: string | undefined;
}

export type GatewayLifeEvent = { type: 'START' } | { type: 'RELOAD' } | { type: 'STOP'; reason: string };

export type GatewayLifeTag = 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped';

const notProvided = (name: string) => async () => {
  throw new Error(`gateway: ${name} actor not provided`);
};

export const gatewayMachine = setup({
  types: {
    context: {} as GatewayLifeContext,
    events: {} as GatewayLifeEvent,
    tags: {} as GatewayLifeTag,
  },
  actors: {
    start: fromPromise<void>(notProvided('start')),
    reload: fromPromise<void>(notProvided('reload')),
    stop: fromPromise<void, { reason: string }>(notProvided('stop')),
  },
  actions: {
    askStop: assign({ stopReason: ({ context, event }) => context.stopReason ?? (event.type === 'STOP' ? event.reason : 'stop') }),
  },
  guards: {
    stopAsked: ({ context }) => context.stopReason !== undefined,
    reloadAgain: ({ context }) => context.reloadAgain,
  },
}).createMachine({
  id: 'gateway',
  context: { reloadAgain: false, stopReason: undefined },
  initial: 'idle',
  states: {
    idle: {
      on: { START: 'starting', STOP: { target: 'stopped', actions: 'askStop' } },
    },
    starting: {
      tags: 'starting',
      // A start that fails releases what did open: it goes on to stopping.
      invoke: { id: 'start', src: 'start', onDone: 'running', onError: { target: 'stopping', actions: assign({ stopReason: ({ context }) => context.stopReason ?? 'start-failed' }) } },
      on: { STOP: { actions: 'askStop' } },
    },
    running: {
      tags: 'running',
      always: { guard: 'stopAsked', target: 'stopping' },
      on: {
        RELOAD: 'reloading',
        STOP: { target: 'stopping', actions: 'askStop' },
      },
    },
    reloading: {
      tags: ['running', 'reloading'],
      entry: assign({ reloadAgain: false }),
      invoke: {
        id: 'reload',
        src: 'reload',
        onDone: [{ guard: 'reloadAgain', target: 'reloading', reenter: true }, { target: 'running' }],
        // The daemon logs why; the running configuration stays.
        onError: [{ guard: 'reloadAgain', target: 'reloading', reenter: true }, { target: 'running' }],
      },
      on: {
        RELOAD: { actions: assign({ reloadAgain: true }) },
        STOP: { actions: 'askStop' },
      },
    },
    stopping: {
      tags: 'stopping',
      invoke: {
        id: 'stop',
        src: 'stop',
        input: ({ context }) => ({ reason: context.stopReason ?? 'stop' }),
        onDone: 'stopped',
        onError: 'stopped',
      },
    },
    stopped: { tags: 'stopped', type: 'final' },
  },
});
