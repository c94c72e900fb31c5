/**
 * The socket protocol's version, sent by clients in the handshake (`auth.protocol`).
 *
 * Compatibility rule: adding an optional field to a message or an event, or a new message or
 * event, is a minor change and keeps the version (receivers ignore fields and events they do not
 * know; an older server answers a new message with `unknown_event`); anything else (a new required
 * field, a changed type or meaning, a removed message) takes the next version. A server
 * accepts its own version and the one before it, so clients can be updated after servers.
 */
export const PROTOCOL_VERSION = 2;

/** What a server assumes for a client that sends no version: the clients from before versions existed. */
export const LEGACY_PROTOCOL_VERSION = 1;

/** The versions a server of this protocol accepts: the current one and the previous one. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION - 1, PROTOCOL_VERSION];

/** What a client puts in socket.io's `auth` when it connects. */
export interface HandshakeAuth {
  token: string;
  meetingId?: string;
  /** Absent means {@link LEGACY_PROTOCOL_VERSION}. */
  protocol?: number;
}
