import type { Call } from './Call.ts';
import type { Dialogs } from './Dialogs.ts';
import type { SipServer } from './SipServer.ts';

/** What dial-in and dial-out need of the gateway that owns the calls. */
export interface CallHost {
  server(): SipServer;
  calls: Dialogs;
  /** True once SIGTERM came: new calls are refused with a 503 (a proxy moves them on), calls in progress go on. */
  draining(): boolean;
  address(): string;
  join(call: Call, meetingId: string): Promise<void>;
  hangUp(call: Call, reason: string): Promise<void>;
  forget(call: Call): void;
}
