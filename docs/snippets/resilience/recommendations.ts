/** The `recommendations` service the resilience plugin snippet calls remotely. */
import { defineService, injectable } from '@blueprint/core';
import { z } from 'zod';

/** The `recommendations` contract. */
export const Recommendations = defineService('recommendations', {
  forUser: { input: z.object({ userId: z.string() }), output: z.array(z.string()), idempotent: true },
});

/** Implements {@link Recommendations}. */
@injectable()
export class RecommendationsService {
  async forUser(_input: { userId: string }) {
    return ['p1', 'p2'];
  }
}
