/** The `quotes` service of the resilience decorators snippet, and the pricing engine it calls. */
import { defineService, type InjectionToken } from '@blueprint/core';
import { z } from 'zod';

/** What a quote is asked for. */
export const QuoteInput = z.object({ productId: z.string(), quantity: z.number().int() });
/** What a quote is asked for. */
export type QuoteInput = z.infer<typeof QuoteInput>;

/** The `quotes` contract. */
export const Quotes = defineService('quotes', {
  quote: { input: QuoteInput, output: z.object({ total: z.number(), live: z.boolean() }) },
});

/** A slow, sometimes unavailable pricing engine. */
export interface PricingEngine {
  price(
    input: QuoteInput,
    options: { signal: AbortSignal | undefined },
  ): Promise<{ total: number; live: boolean }>;
  lastKnown(input: QuoteInput): { total: number; live: boolean };
}

/** The DI token of the pricing engine. */
export const PricingEngine: InjectionToken<PricingEngine> = Symbol('PricingEngine');
