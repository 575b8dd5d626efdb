// Types of services.mjs, for TypeScript code (tests, editors) that imports it.
import type { ServiceContract } from '@blueprint/core';
import type { z } from 'zod';

export declare const Quotes: ServiceContract<
  'quotes',
  {
    price: {
      input: z.ZodObject<{ sku: z.ZodString }>;
      output: z.ZodObject<{ sku: z.ZodString; cents: z.ZodNumber }>;
    };
  }
>;
export declare const Checkout: ServiceContract<
  'checkout',
  {
    total: {
      input: z.ZodObject<{ skus: z.ZodArray<z.ZodString> }>;
      output: z.ZodObject<{ cents: z.ZodNumber; lookups: z.ZodNumber }>;
    };
  }
>;
export declare class QuotesService {}
export declare class CheckoutService {}
