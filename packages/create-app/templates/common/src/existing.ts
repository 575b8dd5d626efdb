/**
 * Reading a record that must exist: an unknown id is the caller's mistake, answered as a coded
 * `NotFoundError` (404 over HTTP, the same class for a remote caller).
 */
import { NotFoundError } from "@blueprint/core";

/**
 * The record `id` of `records`. None is a `NotFoundError` that names it, with the id in its details.
 *
 * @example
 * existing(this.orders, "order", "o1") // or NotFoundError: order o1 does not exist
 */
export function existing<T>(
	records: ReadonlyMap<string, T>,
	what: string,
	id: string,
): T {
	const record = records.get(id);
	if (record === undefined) {
		throw new NotFoundError(`${what} ${id} does not exist`, {
			details: { id },
		});
	}
	return record;
}
