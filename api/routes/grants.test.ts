import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { createHttpServer } from '../../common/http.ts';
import { type ServiceHarness, startServiceHarness } from '../../test/support/services.ts';
import { ApiAuth } from '../auth.ts';
import { meetingRoutes } from './meetings.ts';
import { participantRoutes } from './participants.ts';
import { TurnCredentials } from '../../common/TurnCredentials.ts';

// The answers are serialised through their zod schemas, which strip whatever a schema lacks:
// grants must be the protocol's one schema, or a grant such as `present` silently disappears.
describe('grants in HTTP answers', () => {
  let h: ServiceHarness;
  let app: FastifyInstance;
  let meetingId: string;

  beforeEach(async () => {
    h = await startServiceHarness('memory');
    app = createHttpServer(h.ctx.logger);
    const auth = new ApiAuth(h.ctx.config.apiKey, h.meeting.access);
    const gateways = {
      dial: async () => {
        throw new AppError('unavailable', 'no gateway in this test');
      },
    };
    meetingRoutes(app, h.meeting, auth, { publicUrl: 'http://127.0.0.1', joinRateLimit: () => 100, gateways, turn: new TurnCredentials({ ttlSeconds: 60 }) });
    participantRoutes(app, h.meeting, auth);
    await app.ready();
    ({ id: meetingId } = await h.meeting.meetings.create({ title: 'grants' }));
  });
  afterEach(async () => {
    await app.close();
    await h.close();
  });

  it('the join answer carries every grant, present included', async () => {
    const res = await app.inject({ method: 'POST', url: `/v1/meetings/${meetingId}/join`, payload: { name: 'Ann' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().grants).toEqual({ publishAudio: true, publishVideo: true, publishScreen: true, moderate: false, present: true });
  });

  it('the participants list carries every grant, present included', async () => {
    const claims = await h.joinClaims(meetingId, 'Bob', { host: true });
    await h.meeting.seats.join(claims, 'socket-bob', { rtpCapabilities: {}, receiveVideo: false }, h.pushNodeId);
    const res = await app.inject({ method: 'GET', url: `/v1/meetings/${meetingId}/participants`, headers: { 'x-api-key': h.ctx.config.apiKey } });
    expect(res.statusCode).toBe(200);
    expect(res.json().participants).toEqual([
      expect.objectContaining({ id: claims.sub, grants: { publishAudio: true, publishVideo: true, publishScreen: true, moderate: true, present: true } }),
    ]);
  });
});
