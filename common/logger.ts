import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One root logger per process. Children add `meetingId` and `participantId` so that a single
 * meeting can be followed across every tier's logs.
 */
export function createLogger(options: { level: string; role: string; nodeId: string }): Logger {
  return pino({
    level: options.level,
    base: { role: options.role, nodeId: options.nodeId },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export function meetingLogger(logger: Logger, meetingId: string, participantId?: string): Logger {
  return logger.child(participantId === undefined ? { meetingId } : { meetingId, participantId });
}
