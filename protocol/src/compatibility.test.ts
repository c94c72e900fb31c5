import { describe, expect, it } from 'vitest';
import { clientMessages } from './clientMessages.ts';
import { serverEvents } from './serverEvents.ts';

/** The compatibility rule of docs/architecture.md (Protocol): unknown fields are ignored, wrong types refused. */
describe('protocol compatibility', () => {
  it('ignores a field a newer minor version added, and drops it', () => {
    const parsed = clientMessages.createTransport.safeParse({ direction: 'send', preferTcp: true });
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual({ direction: 'send' });
  });

  it('ignores unknown fields in every variant of a union message', () => {
    const parsed = clientMessages.moderate.safeParse({ action: 'mute', participantId: 'p1', reason: 'noise' });
    expect(parsed.data).toEqual({ action: 'mute', participantId: 'p1' });
  });

  it('still refuses a known field of the wrong type, and a missing required one', () => {
    expect(clientMessages.createTransport.safeParse({ direction: 'sideways' }).success).toBe(false);
    expect(clientMessages.consume.safeParse({ producerId: 42 }).success).toBe(false);
    expect(clientMessages.consume.safeParse({}).success).toBe(false);
  });

  it('lets a client read an event that carries a field it does not know', () => {
    const parsed = serverEvents.activeSpeaker.safeParse({ participantId: 'p1', level: 0.5 });
    expect(parsed.data).toEqual({ participantId: 'p1' });
  });
});
