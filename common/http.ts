import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { AppError, toProblem } from './errors.ts';
import type { Logger } from './logger.ts';

/** A hop count as proxy-addr understands it (fastify's types take no number): trust the nearest `n` hops. */
function trustHops(trust: false | number | string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/**
 * The HTTP server every process has. Other roles add to it: the api role its routes and web
 * client, the push role socket.io on the same port. Errors leave as problem+json.
 */
export function createHttpServer(logger: Logger, options: { bodyLimit?: number; trustProxy?: false | number | string[] } = {}): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Requests are counted in /metrics (convene_http_request_duration_seconds, see
    // common/httpMetrics.ts, installed by main.ts); a log line per request would drown the useful ones.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    trustProxy: trustHops(options.trustProxy ?? false),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error, request, reply) => {
    let appError: AppError;
    if (error instanceof AppError) appError = error;
    else if (hasZodFastifySchemaValidationErrors(error)) {
      appError = new AppError(
        'validation_failed',
        `invalid ${error.validationContext ?? 'request'}`,
        error.validation.map((v) => ({ path: v.instancePath || '/', message: v.message })),
      );
    } else if (typeof (error as { statusCode?: number }).statusCode === 'number' && (error as { statusCode: number }).statusCode < 500) {
      const status = (error as { statusCode: number }).statusCode;
      const code = status === 413 ? 'payload_too_large' : status === 429 ? 'rate_limited' : status === 404 ? 'not_found' : status === 415 ? 'unsupported_media_type' : 'bad_request';
      appError = new AppError(code, (error as Error).message);
    } else {
      request.log.error({ err: error }, 'unhandled error');
      appError = new AppError('internal', 'internal server error');
    }
    reply.code(appError.status).type('application/problem+json').send(toProblem(appError));
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .type('application/problem+json')
      .send(toProblem(new AppError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)));
  });
  return app;
}
