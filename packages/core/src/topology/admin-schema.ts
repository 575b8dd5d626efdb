/**
 * The `admin` section: each process's operator listener, apart from the ports that serve calls.
 * It answers `GET /metrics`, `GET /health/live` and `GET /health/ready` (with every check's details).
 */
import { z } from 'zod';
import { flagSchema, portSchema } from '../units.js';
import { Secret } from './secret.js';
import { MIN_SECRET_LENGTH } from './security-schema.js';

/** The `admin` section. */
export const adminSectionSchema = z
  .strictObject({
    /**
     * The admin port of every process (`9464`), or ports by process name for processes sharing a host
     * (`{ "orders": 9465, "payments": 9466 }`); `0` picks a free port. A process missing from the map has
     * no admin listener. Replica N of a process listens on the port plus N.
     */
    port: z.union([portSchema, z.record(z.string(), portSchema)], {
      error: 'use a port, or ports by process name like { "orders": 9465 }',
    }),
    /** The host the admin listener binds. Default: `"127.0.0.1"` (reachable from this host only). */
    host: z.string().min(1).optional(),
    /**
     * A token the admin routes require (`authorization: Bearer <token>`) beyond the bare status of the
     * health probes, for an admin listener on a shared network. Default: none.
     */
    token: z
      .string()
      .min(MIN_SECRET_LENGTH, `use a token of at least ${MIN_SECRET_LENGTH} characters`)
      .transform((value) => new Secret(value))
      .optional(),
    /**
     * Serve the dashboard (`GET /dashboard/`) on every admin listener, behind `token`, under
     * `blueprint start`: it reads the admin listeners of every process of the topology (each at its
     * process's address host, or `host`, and its admin port). `blueprint dev` serves it on its own
     * `127.0.0.1` port whatever this says. Default: false.
     */
    dashboard: flagSchema.optional(),
  })
  .superRefine((admin, ctx) => {
    const loopback = admin.host === undefined || /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(admin.host);
    if (admin.dashboard === true && admin.token === undefined && !loopback) {
      ctx.addIssue({
        code: 'custom',
        path: ['dashboard'],
        message: `the dashboard would be served on ${admin.host} without a credential: set "token" too, or bind the admin listener to 127.0.0.1`,
      });
    }
  });

/** The parsed `admin` section. */
export type AdminTopology = z.output<typeof adminSectionSchema>;
