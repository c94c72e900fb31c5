/**
 * The client protocol (`@convene/protocol`): every socket.io message a client may send, with
 * its payload schema and its answer, and every event the server pushes, all as zod schemas
 * from which the types and the tables in docs/architecture.md are derived. Native, WeChat and
 * browser clients implement exactly this. mediasoup's own objects pass through as objects
 * that mediasoup validates.
 */
export * from './clientMessages.ts';
export * from './clientResults.ts';
export * from './records.ts';
export * from './serverEvents.ts';
export * from './text.ts';
export * from './version.ts';
