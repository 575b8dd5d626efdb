/**
 * Topologies tests write again and again, built in one place.
 */

/**
 * An http split without service authentication (`"auth": "none"`) of the app `./app.js` that places
 * `processes`; the other `sections` are added, and may replace `app`, `rpc` or `auth`.
 */
export function httpSplit(processes: Record<string, unknown>, sections: Record<string, unknown> = {}) {
  return { app: './app.js', rpc: { type: 'http' }, auth: 'none', processes, ...sections };
}
