import { io, type Socket } from 'socket.io-client';
import { api } from './server.ts';

/** A participant's side of the protocol with fetch and socket.io-client only, as an attacker would drive it. */

export type Ack<T = Record<string, unknown>> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; details?: unknown } };
export type Joined = { token: string; participantId: string };

export const API_KEY = { 'x-api-key': 'dev-api-key' };
// The right-most X-Forwarded-For entry is what the one trusted proxy (nginx) saw; the rest is the client's.
export const via = (address: string) => ({ 'x-forwarded-for': address });

export async function joinToken(base: string, meetingId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api<Joined & { code?: string }>(base, 'POST', `/v1/meetings/${meetingId}/join`, body, headers);
}

export function connect(base: string, token: string, meetingId: string): Promise<Socket> {
  const socket = io(base, { transports: ['websocket'], auth: { token, meetingId }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: { code: string } }) => {
      socket.close();
      reject(Object.assign(new Error(err.message), { code: err.data?.code }));
    });
  });
}

export async function connectRefusal(base: string, token: string, meetingId: string): Promise<string> {
  try {
    const socket = await connect(base, token, meetingId);
    socket.close();
    return 'connected';
  } catch (error) {
    return (error as { code?: string }).code ?? 'none';
  }
}

export const send = <T = Record<string, unknown>>(socket: Socket, event: string, payload: unknown = {}) => socket.emitWithAck(event, payload) as Promise<Ack<T>>;

export function data<T>(ack: Ack<T>): T {
  if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
  return ack.data;
}

export interface Seat {
  socket: Socket;
  id: string;
  token: string;
  sessionToken: string;
  transportId?: string;
}

export async function takeSeat(base: string, meetingId: string, token: string): Promise<Seat & { rtpCapabilities: Record<string, unknown> }> {
  const socket = await connect(base, token, meetingId);
  const { rtpCapabilities } = data(await send<{ rtpCapabilities: Record<string, unknown> }>(socket, 'getRouterRtpCapabilities'));
  const joined = data(await send<{ self: { id: string }; sessionToken: string }>(socket, 'join', { rtpCapabilities, kind: 'bot' }));
  return { socket, id: joined.self.id, token, sessionToken: joined.sessionToken, rtpCapabilities };
}

/** A join token from the api at `base`, then a seat through the push tier at `pushBase`. */
export async function enter(base: string, meetingId: string, body: Record<string, unknown>, headers: Record<string, string> = {}, pushBase = base) {
  const res = await joinToken(base, meetingId, body, headers);
  if (res.status !== 200) throw new Error(`join ${res.status}: ${JSON.stringify(res.body)}`);
  return takeSeat(pushBase, meetingId, res.body.token);
}

let ssrc = 1000;
/** RTP parameters mediasoup accepts without any real media behind them. */
export const opus = () => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc: ssrc++ }],
  rtcp: { cname: `c${ssrc}`, reducedSize: true },
});

/** VP8 RTP parameters mediasoup accepts without any real media behind them. */
export const vp8 = () => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc: ssrc++ }],
  rtcp: { cname: `c${ssrc}`, reducedSize: true },
});

async function publish(seat: Seat, kind: 'audio' | 'video', source: string): Promise<string> {
  const transportId = seat.transportId ?? data(await send<{ id: string }>(seat.socket, 'createTransport', { direction: 'send' })).id;
  seat.transportId = transportId;
  const rtpParameters = kind === 'audio' ? opus() : vp8();
  return data(await send<{ producerId: string }>(seat.socket, 'produce', { transportId, kind, rtpParameters, source })).producerId;
}

export function publishAudio(seat: Seat, source: 'mic' | 'screen-audio' = 'mic'): Promise<string> {
  return publish(seat, 'audio', source);
}

export function publishVideo(seat: Seat, source: 'camera' | 'screen' = 'camera'): Promise<string> {
  return publish(seat, 'video', source);
}

