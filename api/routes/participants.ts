import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type MeetingApi, publicParticipant } from '../../meeting/contract.ts';
import type { ApiAuth } from '../auth.ts';
import { meetingIdParams, muteBody, participantParams, participantsResponse, problem, removeQuery } from '../schemas.ts';

const errors = { 400: problem, 401: problem, 403: problem, 404: problem, 410: problem };

export function participantRoutes(app: FastifyInstance, services: MeetingApi, auth: ApiAuth): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { meetings, seats, repo } = services;

  r.get(
    '/v1/meetings/:meetingId/participants',
    {
      schema: {
        tags: ['participants'],
        summary: 'List participants (API key, or any token of this meeting)',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: meetingIdParams,
        response: { 200: participantsResponse, ...errors },
      },
    },
    async (request) => {
      await auth.caller(request, request.params.meetingId);
      await meetings.get(request.params.meetingId, { allowEnded: true });
      return { participants: (await repo.listParticipants(request.params.meetingId)).map(publicParticipant) };
    },
  );

  r.post(
    '/v1/meetings/:meetingId/participants/:participantId/mute',
    {
      schema: {
        tags: ['participants'],
        summary: 'Mute a participant: pauses their microphone, or the given source (host)',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: participantParams,
        body: muteBody.optional(),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const by = await auth.requireHost(request, request.params.meetingId);
      await meetings.mute(request.params.meetingId, request.params.participantId, request.body?.source, by);
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/v1/meetings/:meetingId/participants/:participantId',
    {
      schema: {
        tags: ['participants'],
        summary: 'Remove a participant for the rest of the meeting; with ban=true their address gets no new join token (host)',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: participantParams,
        querystring: removeQuery,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const by = await auth.requireHost(request, request.params.meetingId);
      await seats.remove(request.params.meetingId, request.params.participantId, by, { ban: request.query.ban === 'true' });
      return reply.code(204).send(null);
    },
  );
}
