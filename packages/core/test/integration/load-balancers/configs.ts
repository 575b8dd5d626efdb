/**
 * The NGINX and HAProxy configurations the deployment guide shows (packages/core/README.md, "Behind a
 * load balancer"), for replicas of one Blueprint process: upstream keep-alive, the next replica tried
 * for idempotent methods (and for any call that never reached a replica), health checks on the
 * readiness probe.
 */

/** What a configuration is made for. */
export interface LoadBalancerSetup {
  /** Where the load balancer listens. */
  readonly host: string;
  readonly port: number;
  /** The replicas, `host:port`. */
  readonly replicas: readonly string[];
  /** RPC paths of the idempotent methods, e.g. `/rpc/products/get`: retried on the next replica. */
  readonly idempotentPaths: readonly string[];
}

const escapeRegExp = (path: string) => path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** nginx: `proxy_next_upstream` with `non_idempotent` only where the method is idempotent. */
export function nginxConfig(setup: LoadBalancerSetup): string {
  const idempotent = setup.idempotentPaths.map(escapeRegExp).join('|');
  return `
events {}
http {
  upstream replicas {
    ${setup.replicas.map((r) => `server ${r} max_fails=1 fail_timeout=5s;`).join('\n    ')}
    keepalive 32;
  }
  server {
    listen ${setup.host}:${setup.port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_connect_timeout 1s;
    # A call that never reached a replica (refused) goes to the next one, whatever its method.
    proxy_next_upstream error timeout;
    location ~ ^(${idempotent})$ {
      proxy_pass http://replicas;
      # Idempotent methods are safe to send again: also after an answer 503 (a replica shutting down).
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
    }
    location / {
      proxy_pass http://replicas;
    }
  }
}
`;
}

/** haproxy: least connections, active health checks on /health/ready, layer-7 retries for idempotent paths. */
export function haproxyConfig(setup: LoadBalancerSetup): string {
  const idempotent = setup.idempotentPaths.map((p) => `^${escapeRegExp(p)}$`).join(' ');
  return `
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  retries 3
  option redispatch 1
  option http-server-close
frontend rpc
  bind ${setup.host}:${setup.port}
  default_backend replicas
backend replicas
  balance leastconn
  option httpchk GET /health/ready
  http-check expect status 200
  acl idempotent path_reg ${idempotent}
  retry-on conn-failure empty-response response-timeout 503
  http-request disable-l7-retry unless idempotent
  ${setup.replicas.map((r, i) => `server r${i} ${r} check inter 200ms fall 1 rise 2`).join('\n  ')}
`;
}
