/**
 * Help text and exit codes of the `blueprint` command line.
 */

/** Exit codes of the CLI. */
export const ExitCode = {
  /** The command did what was asked; a process stopped gracefully. */
  Ok: 0,
  /** Start failed, a stop failed or hung, a second signal forced the exit, or a dev child died. */
  Failure: 1,
  /** The command line was wrong (unknown command or option, missing `--topology`). */
  Usage: 2,
} as const;

/** What `blueprint export` writes. */
export const EXPORT_TARGETS = ['dockerfile', 'compose', 'kubernetes'] as const;

/** A target of `blueprint export`. */
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

/** Output formats of `blueprint graph`. */
export const GRAPH_FORMATS = ['text', 'mermaid'] as const;

/** The text of `blueprint --help`. */
export const HELP_TEXT = `blueprint: run a Blueprint app as its topology places it

Usage:
  blueprint start --topology FILE [--process NAME] [--replica N] [--verbose]
  blueprint dev --topology FILE [--dashboard-port PORT | --no-dashboard] [--verbose]
  blueprint graph --topology FILE [--format text|mermaid] [--metrics URL ...] [--sample DURATION]
  blueprint export dockerfile|compose|kubernetes --topology FILE --out DIR [--force] [--hpa]
  blueprint --help | --version

Commands:
  start   Run one process of the topology. --process may be left out when the topology has
          one process. A .ts app entry runs without a build step (through tsx).
          Prints "blueprint: ready ..." once the process accepts work. SIGTERM or SIGINT
          stops it gracefully (exit 0); a second signal forces exit 1.
  dev     Run every process of the topology as a child ("blueprint start --process NAME"),
          each replica of a process with "replicas" or "addresses" as a child of its own,
          with prefixed, colored logs. A secret the "auth" section reads from an unset
          environment variable is generated for the run. Ctrl-C or SIGTERM stops them all; exits non-zero when
          one of them dies. JSON log lines of the children are printed readably.
          Serves the dashboard (architecture, traces, events, cache) on 127.0.0.1,
          port 9400 or a free one when it is taken; the URL is in the ready line.
  graph   Print the services, the process hosting each, and the calls and events between
          them, as text or as a Mermaid flowchart (--format mermaid). With --metrics and
          the /metrics URLs of running processes, calls are annotated with the counts of
          blueprint_rpc_client_requests_total (totals and the average rate since each
          process started; with --sample 10s, the rate over a 10 s window), and the
          process pairs that call each other most are listed.
  export  Write what an orchestrator runs, from the same plan "dev" runs, into DIR:
            dockerfile  Dockerfile and its ignore file: one image for every process,
                        BLUEPRINT_PROCESS picks the process.
            compose     compose.yaml: a service per process (replicas, ports, environment,
                        healthchecks, depends_on) and the Redis, NATS, Kafka or Memcached
                        servers the topology's sections use. Builds the Dockerfile
                        exported to the same DIR.
            kubernetes  Per process a Deployment, Service, PodDisruptionBudget and a
                        NetworkPolicy that admits only the processes calling it; a
                        ConfigMap with the topology; Secrets referenced, never written.
          The topology is read with its defaults: variables set in the shell are not
          used, and secrets are named, never written. Files that exist and differ are
          left alone unless --force is given.

Options:
  -t, --topology FILE   The topology JSON file. Its "app" path is relative to the file.
  -p, --process NAME    The process to run (start only).
  -r, --replica N       Which replica of the process this is, from 0 (start only; default 0, or
                        BLUEPRINT_REPLICA): it listens at that replica's address.
      --dashboard-port PORT  dev: the dashboard's port on 127.0.0.1 (0 picks a free one).
      --no-dashboard    dev: serve no dashboard.
  -o, --out DIR         export: the folder to write to (created when missing).
      --force           export: replace files that differ from the export.
      --hpa             export kubernetes: add a HorizontalPodAutoscaler per process.
  -f, --format FORMAT   graph: text (default) or mermaid.
  -m, --metrics URL     graph: a /metrics URL to scrape; repeat it or list several URLs.
      --sample DURATION graph: scrape twice, DURATION apart, and show rates.
      --verbose         Print stack traces of coded errors too.
  -h, --help            Show this help.
  -v, --version         Print the version of @blueprint/core.

Exit codes: 0 ok, 1 failure, 2 bad command line.
Environment: LOG_LEVEL (trace, debug, info, warn, error, fatal, silent) sets the log
level. BLUEPRINT_TOPOLOGY and BLUEPRINT_PROCESS stand for start's --topology and
--process when those are not given (as in a container image). PORT and other variables belong to the app; the topology reads them with
\${VAR:-default}.
`;
