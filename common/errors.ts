/**
 * Every error a client can see, in one place. Codes are stable API: clients switch on them, so
 * a code is never renamed or reused. HTTP answers carry them as problem+json (RFC 9457); socket
 * acks as `{ error: { code, message } }`.
 */
export const errorCodes = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  invalid_token: 401,
  token_expired: 401,
  token_revoked: 401,
  banned: 403,
  wrong_password: 403,
  wrong_meeting: 403,
  forbidden: 403,
  not_found: 404,
  meeting_not_found: 404,
  participant_not_found: 404,
  unknown_event: 404,
  /** The socket handshake's protocol version is not one this server speaks (docs: Protocol). */
  unsupported_protocol: 400,
  request_timeout: 408,
  upload_incomplete: 400,
  conflict: 409,
  already_consuming: 409,
  meeting_locked: 423,
  meeting_full: 409,
  meeting_ended: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  quota_exceeded: 413,
  message_too_long: 413,
  rate_limited: 429,
  limit_reached: 429,
  not_ready: 409,
  /** The joining device can decode none of the meeting's video codecs: join with `receiveVideo: false` (audio-only). */
  codec_unsupported: 422,
  internal: 500,
  unavailable: 503,
  /** A lock on shared state could not be had in time: retry shortly. */
  busy: 503,
  /** Redis (the shared state) cannot be reached: retry shortly. */
  store_unavailable: 503,
  node_full: 503,
  node_draining: 503,
  timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(
    code: ErrorCode,
    message: string,
    details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
    this.name = 'AppError';
    this.status = errorCodes[code];
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  details?: unknown;
}

export function toProblem(error: AppError): Problem {
  return {
    type: `https://convene.dev/problems/${error.code}`,
    title: error.code.replace(/_/g, ' '),
    status: error.status,
    code: error.code,
    detail: error.message,
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}

/** Rejects a promise that has not settled in time: every pending operation has a deadline. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AppError('timeout', `${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
