import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../common/errors.ts';
import { outcomeCode } from '../../common/joinOutcomes.ts';
import type { GatewayDialer } from '../../gateway-sip/contract.ts';
import type { MeetingApi } from '../../meeting/contract.ts';
import type { ApiAuth } from '../auth.ts';
import type { TurnCredentials } from '../../common/TurnCredentials.ts';
import {
  createdMeeting,
  createMeetingBody,
  dialBody,
  dialResponse,
  joinBody,
  joinResponse,
  meetingIdParams,
  meetingView,
  problem,
  siteInfo,
  updateMeetingBody,
} from '../schemas.ts';

const errors = { 400: problem, 401: problem, 403: problem, 404: problem, 409: problem, 410: problem, 423: problem, 429: problem };

export function meetingRoutes(
  app: FastifyInstance,
  services: MeetingApi,
  auth: ApiAuth,
  options: { publicUrl: string; joinRateLimit: () => number; gateways: GatewayDialer; turn: TurnCredentials; openMeetings?: { perHour: number }; onJoin?: (code: string) => void },
): void {
  const { publicUrl } = options;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { meetings, lifecycle } = services;

  const open = options.openMeetings;
  r.get(
    '/v1/site',
    {
      schema: {
        tags: ['meetings'],
        summary: 'What the pages need to know of this site: whether anyone may start a meeting (open mode)',
        response: { 200: siteInfo },
      },
    },
    async () => ({ openMeetings: open !== undefined }),
  );

  r.post(
    '/v1/meetings',
    {
      // Only keyless creation (open mode) is counted: a server holding the key is not a stranger.
      config: open ? { rateLimit: { max: open.perHour, timeWindow: '1 hour', allowList: (request) => auth.hasApiKey(request) } } : {},
      schema: {
        tags: ['meetings'],
        summary: 'Create a meeting (server to server with X-Api-Key; anyone in open mode, a few an hour per address)',
        security: open ? [{ apiKey: [] }, {}] : [{ apiKey: [] }],
        body: createMeetingBody.optional(),
        response: { 201: createdMeeting, ...errors },
      },
    },
    async (request, reply) => {
      if (!open) auth.requireApiKey(request);
      const created = await meetings.create(request.body ?? {});
      return reply.code(201).send(created);
    },
  );

  r.get(
    '/v1/meetings/:meetingId',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Get a meeting: public fields, and the phone PIN for hosts',
        security: [{}, { apiKey: [] }, { bearer: [] }],
        params: meetingIdParams,
        response: { 200: meetingView, ...errors },
      },
    },
    async (request) => {
      const view = await meetings.view(await meetings.get(request.params.meetingId, { allowEnded: true }));
      // The PIN admits a phone without the password: whoever knows only the id must not get it.
      const isHost = await auth.requireHost(request, request.params.meetingId).then(
        () => true,
        () => false,
      );
      if (isHost) return view;
      const { pin: _pin, ...publicView } = view;
      return publicView;
    },
  );

  r.patch(
    '/v1/meetings/:meetingId',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Change a meeting: lock or unlock it, rename it, change its capacity (host)',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: meetingIdParams,
        body: updateMeetingBody,
        response: { 200: meetingView, ...errors },
      },
    },
    async (request) => {
      await auth.requireHost(request, request.params.meetingId);
      return meetings.view(await meetings.update(request.params.meetingId, request.body));
    },
  );

  r.delete(
    '/v1/meetings/:meetingId',
    {
      schema: {
        tags: ['meetings'],
        summary: 'End a meeting: everyone is told and disconnected (host)',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: meetingIdParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const by = await auth.requireHost(request, request.params.meetingId);
      await lifecycle.end(request.params.meetingId, by);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/v1/meetings/:meetingId/join',
    {
      config: { rateLimit: { max: () => options.joinRateLimit(), timeWindow: '1 minute' } },
      schema: {
        tags: ['meetings'],
        summary: 'Get a join token for the meeting link; then connect socket.io with it',
        params: meetingIdParams,
        body: joinBody,
        response: { 200: joinResponse, ...errors },
      },
    },
    async (request) => {
      const { meetingId } = request.params;
      const { role, ...rest } = request.body;
      // Every outcome of the HTTP join is counted (convene_joins_total{stage="token"}).
      try {
        if (role === 'host' && !rest.hostKey && !auth.hasApiKey(request)) {
          throw new AppError('forbidden', 'joining as host needs the host key or the API key');
        }
        const issued = await meetings.issueJoinToken(meetingId, { ...rest, asHost: role === 'host' && auth.hasApiKey(request), clientAddress: request.ip });
        options.onJoin?.('ok');
        // Placed only once a token was issued, so a refused caller cannot place meetings. Without
        // a media node the token still goes out: the client asks for the capabilities over the socket.
        const rtpCapabilities = await services.seats.routerRtpCapabilities(meetingId).catch((error: unknown) => {
          request.log.warn({ meetingId, err: error }, 'join token issued without router capabilities');
          return undefined;
        });
        return { ...issued, signalingUrl: publicUrl, iceServers: options.turn.iceServers(issued.participantId), ...(rtpCapabilities && { rtpCapabilities }) };
      } catch (error) {
        options.onJoin?.(outcomeCode(error));
        throw error;
      }
    },
  );

  r.post(
    '/v1/meetings/:meetingId/dial',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Call a telephone (SIP URI) into the meeting through a SIP gateway (host)',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: meetingIdParams,
        body: dialBody,
        response: { 202: dialResponse, ...errors, 503: problem },
      },
    },
    async (request, reply) => {
      await auth.requireHost(request, request.params.meetingId);
      await meetings.get(request.params.meetingId);
      const call = await options.gateways.dial(request.params.meetingId, request.body.uri);
      return reply.code(202).send(call);
    },
  );
}
