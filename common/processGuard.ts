import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';

/**
 * The last line of defence: an error that escaped every handler is logged with its stack and
 * counted, and the process keeps serving. A conferencing process carries every call placed on
 * it, so ending it for one stray packet or one failed dependency call would hand any peer a way
 * to hang up everyone. Errors reaching here are bugs: `convene_unhandled_errors_total` is what
 * the alert watches.
 */
export function installProcessGuard(logger: Logger, registry: Registry): () => void {
  const counter = new Counter({
    name: 'convene_unhandled_errors_total',
    help: 'Errors that escaped every handler and reached the process guard (the process kept running)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  // Present at zero from the start, so that an alert on its increase sees the first error.
  for (const kind of ['rejection', 'exception']) counter.inc({ kind }, 0);
  const onRejection = (reason: unknown) => {
    counter.inc({ kind: 'rejection' });
    logger.error({ err: reason }, 'unhandled promise rejection; kept running');
  };
  const onException = (error: Error, origin: string) => {
    counter.inc({ kind: 'exception' });
    logger.error({ err: error, origin }, 'uncaught exception; kept running');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
