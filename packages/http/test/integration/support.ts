/**
 * Sends the shared table's requests over HTTP with undici's fetch.
 */
import type { EdgeTestRequest, EdgeTestResponse } from '../../src/testing/index.js';

/** A `request` of the shared table for a server at `baseUrl`. */
export function fetchEdge(baseUrl: string) {
  return async (method: string, path: string, init: EdgeTestRequest = {}): Promise<EdgeTestResponse> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: init.headers ?? {},
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, text: await response.text() };
  };
}
