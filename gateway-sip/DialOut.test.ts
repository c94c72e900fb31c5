import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { type FakeUas, startFakeUas } from '../test/sip/fakeUas.ts';
import { header } from '../test/sip/sipMessage.ts';
import { type Harness, startHarness } from './testHarness.ts';

let harness: Harness | undefined;
let uas: FakeUas | undefined;
afterEach(async () => {
  await uas?.close();
  await harness?.close();
  harness = undefined;
  uas = undefined;
});

const of = (callId: string, method: string) => (r: { message: { method?: string; status?: number; headers: Map<string, string[]> } }) =>
  r.message.method === method && header(r.message as never, 'call-id') === callId;

describe('dial-out transactions (issue 11)', () => {
  it('keeps ringing past Timer B once the callee rings (a provisional stops Timer B)', async () => {
    // T1 of 50 ms: Timer B fires after 3.2 s, the dial timeout only after 20 s.
    harness = await startHarness({ t1: 50, gateway: { dialTimeoutMs: 20_000 } });
    uas = await startFakeUas({ ringOnly: true });
    const { callId } = await harness.gateway.dial('meetingA', `sip:+15550100@127.0.0.1:${uas.port}`);
    await uas.waitFor(of(callId, 'INVITE'));
    await new Promise((r) => setTimeout(r, 4500));
    expect(harness.gateway.calls.has(callId)).toBe(true);
    expect(uas.received.some(of(callId, 'CANCEL'))).toBe(false);
  });

  it('CANCELs a dial-out that rings past the dial timeout, and ACKs the 487', async () => {
    harness = await startHarness({ gateway: { dialTimeoutMs: 1000 } });
    uas = await startFakeUas({ ringOnly: true });
    const { callId } = await harness.gateway.dial('meetingA', `sip:+15550100@127.0.0.1:${uas.port}`);
    const cancel = await uas.waitFor(of(callId, 'CANCEL'), 4000);
    expect(header(cancel.message, 'cseq')).toMatch(/ CANCEL$/);
    const ack = await uas.waitFor(of(callId, 'ACK'), 3000);
    expect(header(ack.message, 'to')).toMatch(/tag=/);
    await waitFor(() => !harness!.gateway.calls.has(callId), { what: 'the call forgotten' });
  });

  it('ACKs a non-2xx final answer to its INVITE', async () => {
    harness = await startHarness();
    uas = await startFakeUas({ inviteStatus: () => 486 });
    const { callId } = await harness.gateway.dial('meetingA', `sip:+15550100@127.0.0.1:${uas.port}`);
    const ack = await uas.waitFor(of(callId, 'ACK'), 3000);
    const invite = uas.received.find(of(callId, 'INVITE'))!;
    // The same transaction: the INVITE's branch and CSeq number.
    expect(/branch=([^;\s]+)/.exec(header(ack.message, 'via') ?? '')?.[1]).toBe(/branch=([^;\s]+)/.exec(header(invite.message, 'via') ?? '')?.[1]);
    expect(header(ack.message, 'cseq')?.split(' ')[0]).toBe(header(invite.message, 'cseq')?.split(' ')[0]);
    await waitFor(() => !harness!.gateway.calls.has(callId), { what: 'the call forgotten' });
  });

  it('ACKs and hangs up a 200 that arrives after the CANCEL', async () => {
    harness = await startHarness({ gateway: { dialTimeoutMs: 800 } });
    uas = await startFakeUas({ ringOnly: true, onCancel: 'answer' });
    const { callId } = await harness.gateway.dial('meetingA', `sip:+15550100@127.0.0.1:${uas.port}`);
    await uas.waitFor(of(callId, 'CANCEL'), 4000);
    await uas.waitFor(of(callId, 'ACK'), 3000);
    await uas.waitFor(of(callId, 'BYE'), 3000);
    expect(harness.joins).toEqual([]);
    await waitFor(() => !harness!.gateway.calls.has(callId), { what: 'the call forgotten' });
  });
});
