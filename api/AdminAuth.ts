import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/errors.ts';
import { safeEqual } from './safeEqual.ts';

/**
 * The operator's credential for /v1/admin/* (`X-Admin-Key`, ADMIN_API_KEY). Apart from the
 * apps' API key on purpose: an app that creates meetings must not be able to change how every
 * meeting of the deployment behaves.
 */
export class AdminAuth {
  private readonly adminKey: string;
  constructor(adminKey: string) {
    this.adminKey = adminKey;
  }

  requireAdmin(request: FastifyRequest): void {
    const key = request.headers['x-admin-key'];
    if (typeof key !== 'string' || !safeEqual(key, this.adminKey)) throw new AppError('unauthorized', 'this call needs the X-Admin-Key header (ADMIN_API_KEY)');
  }
}
