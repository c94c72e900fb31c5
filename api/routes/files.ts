import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../common/errors.ts';
import { fileIdSchema, type Files } from '../../files/contract.ts';
import type { Meetings } from '../../meeting/contract.ts';
import { fileInfo } from '../../protocol/src/index.ts';
import type { ApiAuth } from '../auth.ts';
import { meetingIdParams, problem } from '../schemas.ts';
import { type UploadLimits, UploadRequest } from '../upload/UploadRequest.ts';

const fileParams = meetingIdParams.extend({ fileId: fileIdSchema });
const pageParams = fileParams.extend({ page: z.coerce.number().int().min(1).max(10_000) });
const tokenQuery = z.object({ token: z.string().max(4096).optional() });
const errors = { 400: problem, 401: problem, 403: problem, 404: problem, 408: problem, 409: problem, 413: problem, 415: problem, 429: problem };

/** Decks and files of a meeting: upload (multipart), list, download, page images, delete. */
export function fileRoutes(app: FastifyInstance, files: Files, meetings: Pick<Meetings, 'get'>, auth: ApiAuth, limits: UploadLimits): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/v1/meetings/:meetingId/files',
    {
      schema: {
        tags: ['files'],
        summary: 'Upload a deck (multipart/form-data, field "file"): PDF, PPTX, ODP or PPT, checked by content; conversion to page images is queued',
        security: [{ apiKey: [] }, { bearer: [] }],
        consumes: ['multipart/form-data'],
        params: meetingIdParams,
        response: { 201: fileInfo, ...errors },
      },
    },
    async (request, reply) => {
      const caller = await auth.caller(request, request.params.meetingId);
      if (caller.kind === 'participant' && caller.claims.grants.present === false) throw new AppError('forbidden', 'you may not upload decks');
      await meetings.get(request.params.meetingId);
      if (!request.isMultipart()) throw new AppError('bad_request', 'send the file as multipart/form-data in the field "file"');
      const upload = new UploadRequest(request, limits);
      try {
        const stored = await files.upload(request.params.meetingId, {
          declaredBytes: upload.declaredBytes,
          uploadedBy: caller.kind === 'participant' ? caller.claims.sub : null,
          open: () => upload.open(),
          signal: upload.watch.signal,
          onChunk: () => upload.watch.touch(),
        });
        return reply.code(201).send(stored);
      } catch (error) {
        const refusal = upload.refusal(error);
        if (refusal instanceof AppError && (refusal.code === 'upload_incomplete' || refusal.code === 'request_timeout')) {
          request.log.info({ meetingId: request.params.meetingId, code: refusal.code }, refusal.message);
        } else await upload.drain();
        // Whatever is left unread must not sit in front of the client's next request.
        reply.header('connection', 'close');
        throw refusal;
      } finally {
        upload.dispose();
      }
    },
  );

  r.get(
    '/v1/meetings/:meetingId/files',
    { schema: { tags: ['files'], summary: "The meeting's files", params: meetingIdParams, querystring: tokenQuery, response: { 200: z.object({ files: z.array(fileInfo) }), ...errors } } },
    async (request) => {
      await auth.caller(request, request.params.meetingId);
      return { files: await files.list(request.params.meetingId) };
    },
  );

  r.get(
    '/v1/meetings/:meetingId/files/:fileId',
    { schema: { tags: ['files'], summary: 'A file: its status, conversion progress and pages', params: fileParams, querystring: tokenQuery, response: { 200: fileInfo, ...errors } } },
    async (request) => {
      await auth.caller(request, request.params.meetingId);
      return files.get(request.params.meetingId, request.params.fileId);
    },
  );

  r.get(
    '/v1/meetings/:meetingId/files/:fileId/download',
    { schema: { tags: ['files'], summary: 'The original file (token of this meeting, as Bearer or ?token=)', params: fileParams, querystring: tokenQuery } },
    async (request, reply) => {
      await auth.caller(request, request.params.meetingId);
      const file = await files.get(request.params.meetingId, request.params.fileId);
      reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`)
        .header('x-content-sha256', file.sha256)
        .header('cache-control', 'private, no-store');
      return reply.send(files.readOriginal(file));
    },
  );

  r.get(
    '/v1/meetings/:meetingId/files/:fileId/pages/:page',
    { schema: { tags: ['files'], summary: 'One page of a converted deck as PNG', params: pageParams, querystring: tokenQuery } },
    async (request, reply) => {
      await auth.caller(request, request.params.meetingId);
      const file = await files.get(request.params.meetingId, request.params.fileId);
      if (!file.pages.includes(request.params.page)) {
        throw new AppError('not_found', file.missingPages.includes(request.params.page) ? `page ${request.params.page} could not be converted` : `no page ${request.params.page}`);
      }
      reply.header('content-type', 'image/png').header('cache-control', 'private, max-age=3600');
      return reply.send(files.readPage(file, request.params.page));
    },
  );

  r.delete(
    '/v1/meetings/:meetingId/files/:fileId',
    { schema: { tags: ['files'], summary: 'Delete a file (its uploader, a host, or the API key)', params: fileParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      const caller = await auth.caller(request, request.params.meetingId);
      const file = await files.get(request.params.meetingId, request.params.fileId);
      if (caller.kind === 'participant' && !caller.claims.grants.moderate && caller.claims.sub !== file.uploadedBy) {
        throw new AppError('forbidden', 'only its uploader or a host may delete a file');
      }
      await files.delete(request.params.meetingId, request.params.fileId);
      return reply.code(204).send(null);
    },
  );
}
