/** A CallChannel seen through a byte counter: call summaries report bytes in and out. */
import type { CallChannel } from '../serial/types.js';

export interface ByteCounts {
  in: number;
  out: number;
}

export function countingChannel(channel: CallChannel, counts: ByteCounts): CallChannel {
  channel.onData((bytes) => {
    counts.in += bytes.length;
  });
  return {
    get lineId() {
      return channel.lineId;
    },
    get callId() {
      return channel.callId;
    },
    get deviceName() {
      return channel.deviceName;
    },
    get peer() {
      return channel.peer;
    },
    get callerId() {
      return channel.callerId;
    },
    get connectSpeed() {
      return channel.connectSpeed;
    },
    get remoteEchoSuppressed() {
      return channel.remoteEchoSuppressed;
    },
    get ended() {
      return channel.ended;
    },
    write(bytes) {
      if (!channel.ended) counts.out += bytes.length;
      channel.write(bytes);
    },
    onData: (listener) => channel.onData(listener),
    onEnd: (listener) => channel.onEnd(listener),
    hangup: () => channel.hangup(),
    ...(channel.callBack ? { callBack: (request, signal) => channel.callBack!(request, signal) } : {}),
  };
}
