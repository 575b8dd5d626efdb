/**
 * The dashboard on an admin listener (`"admin": { "dashboard": true }` under `blueprint start`): the page
 * and API under `/dashboard/`, behind the admin token, reading the admin listener of every process the
 * topology names.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppDefinition } from '../app.js';
import { replicaAddresses } from '../topology/process-schema.js';
import type { Topology } from '../topology.js';
import type { DashboardTarget } from './admin-client.js';
import { createCollector } from './collector.js';
import { dashboardRoutes } from './routes.js';

/**
 * Where each replica's admin listener is: the host of its RPC address (the admin host when it has none,
 * or when the admin listener binds a specific host) and its process's admin port plus the replica index.
 */
export function adminTargets(topology: Topology): DashboardTarget[] {
  const admin = topology.admin;
  if (admin === undefined) return [];
  const targets: DashboardTarget[] = [];
  for (const [name, entry] of Object.entries(topology.processes)) {
    const base = typeof admin.port === 'object' ? admin.port[name] : admin.port;
    if (base === undefined || base === 0) continue;
    const addresses = replicaAddresses(entry);
    const replicas = Math.max(1, addresses.length);
    for (let replica = 0; replica < replicas; replica++) {
      const address = addresses[replica];
      const bound = admin.host !== undefined && admin.host !== '0.0.0.0' && admin.host !== '::';
      const host =
        bound || address === undefined ? (bound ? admin.host! : '127.0.0.1') : new URL(address).hostname;
      targets.push({ process: name, replica, adminUrl: `http://${host}:${base + replica}` });
    }
  }
  return targets;
}

/** The handler of `/dashboard/...` on an admin listener. */
export function adminDashboardRoutes(
  app: AppDefinition,
  topology: Topology,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const targets = adminTargets(topology);
  const collector = createCollector({ app, topology, targets: () => targets, token: topology.admin?.token });
  const routes = dashboardRoutes(collector, '/dashboard');
  return (request, response) => {
    if (request.method === 'GET' && request.url === '/dashboard') {
      response.writeHead(308, { location: '/dashboard/' }).end();
      return true;
    }
    return routes(request, response);
  };
}
