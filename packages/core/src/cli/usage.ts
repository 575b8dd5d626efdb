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

/** The text of `blueprint --help`. */
export const HELP_TEXT = `blueprint: run a Blueprint app as its topology places it

Usage:
  blueprint start --topology FILE [--process NAME] [--verbose]
  blueprint dev --topology FILE [--verbose]
  blueprint graph --topology FILE [--format text|mermaid] [--metrics URL ...] [--sample DURATION]
  blueprint --help | --version

Commands:
  start   Run one process of the topology. --process may be left out when the topology has
          one process. A .ts app entry runs without a build step (through tsx).
          Prints "blueprint: ready ..." once the process accepts work. SIGTERM or SIGINT
          stops it gracefully (exit 0); a second signal forces exit 1.
  dev     Run every process of the topology as a child ("blueprint start --process NAME")
          with prefixed, colored logs. Ctrl-C or SIGTERM stops them all; exits non-zero when
          one of them dies. JSON log lines of the children are printed readably.
  graph   Print the services, the process hosting each, and the calls and events between
          them, as text or as a Mermaid flowchart (--format mermaid). With --metrics and
          the /metrics URLs of running processes, calls are annotated with the counts of
          blueprint_rpc_client_requests_total (totals and the average rate since each
          process started; with --sample 10s, the rate over a 10 s window), and the
          process pairs that call each other most are listed.

Options:
  -t, --topology FILE   The topology JSON file. Its "app" path is relative to the file.
  -p, --process NAME    The process to run (start only).
  -f, --format FORMAT   graph: text (default) or mermaid.
  -m, --metrics URL     graph: a /metrics URL to scrape; repeat it or list several URLs.
      --sample DURATION graph: scrape twice, DURATION apart, and show rates.
      --verbose         Print stack traces of coded errors too.
  -h, --help            Show this help.
  -v, --version         Print the version of @blueprint/core.

Exit codes: 0 ok, 1 failure, 2 bad command line.
Environment: LOG_LEVEL (trace, debug, info, warn, error, fatal, silent) sets the log
level. PORT and other variables belong to the app; the topology reads them with
\${VAR:-default}.
`;
