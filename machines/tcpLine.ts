/**
 * A TCP line: closed -> open (binding -> serving: idle | connected) and back; a listener that
 * cannot bind fails the line. Orchestration only: the listener (socket, connections, calls) is
 * the invoked `listener` actor that src/serial/tcp-line.ts provides; it reports LISTENING or
 * LISTEN_FAILED and each call's start and end. Leaving `open` stops the listener (the port is
 * released); calls in progress go on (a paused line still has its callers). Each state carries
 * the tag of the line state src reports (machines/line.ts LINE_TAGS), so src reads tags only.
 */
import { assign, fromCallback, setup } from 'xstate';
import type { LineTag } from './line.js';

export interface TcpLineContext {
  /** Calls in progress. */
  calls: number;
  lastError?: string;
}

export type TcpLineEvent =
  | { type: 'START' }
  /** Stop answering: the listener closes, calls in progress go on. */
  | { type: 'PAUSE' }
  | { type: 'STOP' }
  | { type: 'LISTENING' }
  | { type: 'LISTEN_FAILED'; error: string }
  | { type: 'CALL_STARTED' }
  | { type: 'CALL_ENDED' };

export const tcpLineMachine = setup({
  types: {
    context: {} as TcpLineContext,
    events: {} as TcpLineEvent,
    tags: {} as LineTag,
  },
  actors: {
    /** Listens while the line is open; sends LISTENING / LISTEN_FAILED and CALL_STARTED / CALL_ENDED; closes on cleanup. */
    listener: fromCallback<TcpLineEvent>(() => () => undefined),
  },
  guards: {
    hasCalls: ({ context }) => context.calls > 0,
    lastCall: ({ context }) => context.calls <= 1,
  },
}).createMachine({
  id: 'tcpLine',
  context: { calls: 0 },
  initial: 'closed',
  on: {
    CALL_STARTED: { actions: assign({ calls: ({ context }) => context.calls + 1 }) },
    CALL_ENDED: { actions: assign({ calls: ({ context }) => Math.max(0, context.calls - 1) }) },
  },
  states: {
    closed: {
      tags: ['closed', 'released'],
      on: { START: 'open' },
    },
    failed: {
      tags: ['failed', 'released'],
      on: { START: 'open' },
    },
    open: {
      entry: assign({ lastError: undefined }),
      invoke: {
        id: 'listener',
        src: 'listener',
        onError: { target: 'failed', actions: assign({ lastError: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)) }) },
      },
      on: {
        LISTEN_FAILED: { target: 'failed', actions: assign({ lastError: ({ event }) => event.error }) },
        PAUSE: 'closed',
        STOP: 'closed',
      },
      initial: 'binding',
      states: {
        binding: {
          tags: 'opening',
          on: { LISTENING: 'serving' },
        },
        serving: {
          initial: 'idle',
          on: {
            CALL_STARTED: { target: '.connected', actions: assign({ calls: ({ context }) => context.calls + 1 }) },
            CALL_ENDED: [
              { guard: 'lastCall', target: '.idle', actions: assign({ calls: 0 }) },
              { actions: assign({ calls: ({ context }) => context.calls - 1 }) },
            ],
          },
          states: {
            // Listening again after a pause, with the calls that went on meanwhile.
            idle: { tags: 'idle', always: { guard: 'hasCalls', target: 'connected' } },
            connected: { tags: 'connected' },
          },
        },
      },
    },
  },
});
