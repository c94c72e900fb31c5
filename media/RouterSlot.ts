import type { types } from 'mediasoup';

/** One router of a meeting on this node, on one worker, with the consumers seated on it. */
export class RouterSlot {
  readonly consumers = new Set<string>();
  participants = 0;

  readonly router: types.Router;
  readonly workerIndex: number;
  readonly webRtcServer: types.WebRtcServer | undefined;
  constructor(router: types.Router, workerIndex: number, webRtcServer: types.WebRtcServer | undefined) {
    this.router = router;
    this.workerIndex = workerIndex;
    this.webRtcServer = webRtcServer;
  }
}
