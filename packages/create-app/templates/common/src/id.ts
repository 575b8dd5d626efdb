/**
 * The id a caller names a record by, as the contracts' method inputs take it.
 */
import { z } from "zod";

/**
 * An id in a method's input: 1 to 100 characters, so an empty or an oversized id is answered with a
 * `VALIDATION_FAILED` (400) before the service runs.
 *
 * @example
 * get: { input: z.object({ id: Id }), output: User }
 */
export const Id = z.string().min(1).max(100);
