/** A refusal from the server (its `code` is the protocol's error code) or a failure of the SDK. */
export class ConveneError extends Error {
  readonly code: string;
  readonly details?: unknown;
  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
    this.name = 'ConveneError';
  }
}
