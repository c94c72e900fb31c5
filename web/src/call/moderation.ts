import type { Call } from './Call.ts';

/** Host actions through the protocol's `moderate` message; a refusal shows as a notice. */
export function moderate(call: Call, action: Parameters<Call['client']['moderate']>[0]): void {
  call.client.moderate(action).then(
    () => call.store.sync(),
    () => call.store.say('actionFailed'),
  );
}
