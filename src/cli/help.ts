/** The text of `--help` for the program and each command. */

export const TOP_HELP = `partyhouse: run PartyKit projects on Node.js

Usage:
  partyhouse dev [script]     run the project, rebuilding and reloading on file changes
  partyhouse start [script]   run the project for production (no watching, JSON logs)
  partyhouse init [dir]       create a new project (partykit.json, a typed server, a page, a test)

Your rooms' data (partyhouse backup --help for the options):
  partyhouse backup <file>    a consistent copy of every room's storage and alarm, also while serving
  partyhouse restore <file>   a backup into an empty data folder or cluster database
  partyhouse export [file|-]  rooms as JSON lines (filter by --party and --prefix)
  partyhouse import <file|->  an export into a store (merged; --replace replaces its rooms)
  partyhouse migrate --from <folder|url> --to <url|folder>   move a store, verified room by room

Options:
  -h, --help      show help (also: partyhouse <command> --help)
  --version       print the version

The project is read from partykit.json (or .json5, .jsonc, or package.json#partykit),
found by walking up from the current folder.
`;

const RUN_OPTIONS = `Options:
  -p, --port <n>          port to listen on (default: config "port", else 1999; 0 = any free port)
  --host <address>        address to bind (default: 127.0.0.1 for dev, 0.0.0.0 for start)
  -c, --config <file>     config file to use instead of searching for partykit.json
  --persist [path|false]  data folder (default: .partyhouse next to the config);
                          false keeps storage in memory only
  -v, --var <KEY=VALUE...>  set room.env.KEY to the string VALUE (several pairs may follow)
  -d, --define <KEY=VALUE...>  esbuild define, VALUE is JS source (several pairs may follow)
  --with-env              also define each .env key as a global constant in the server bundle
  --serve <dir>           serve static files from this folder
  --minify                minify the server bundle
  --hibernate-after <ms>  idle time before a hibernating room drops its instance (default 5000)
  --admin-port <n>        start the admin listener (health, metrics, room API, inspector) on this port
  --admin-host <address>  its bind address (default 127.0.0.1; any other needs a token)
  --admin-token <token>   bearer token for /metrics and /api (or PARTYHOUSE_ADMIN_TOKEN)
  --log-level <level>     debug, info (default), warn or error
  --cluster <url>         cluster mode: storage and room ownership in this PostgreSQL database
                          (also PARTYHOUSE_CLUSTER, or "cluster" in the config)
  --advertise <host:port> how other cluster nodes reach this one (default: --host:--port
                          when both are concrete)
  --cluster-lease <ms>    node lease in cluster mode (default 10000)
  --cluster-cert <file>   mutual TLS between cluster nodes: this node's certificate (PEM),
  --cluster-key <file>    its key, and
  --cluster-ca <file>     the CA that signed every node's certificate (all three, or none)
  --max-body-size <size>  largest request body, bytes or e.g. 10mb (default 100mb; 413 above)
  --allowed-origins <list>  comma-separated Origins allowed to connect (default: any); others get 403
  --trust-proxy           believe x-forwarded-for / cf-connecting-ip / x-real-ip from clients
                          (only behind a proxy that sets them; default off)
  --max-event-ms <ms>     an event that blocks the event loop this long ends the process
                          (default 30000, exit code 70)
  --workers <n|auto>      start only: a supervisor and n worker processes (auto = the cores
                          available; default 1 = one process); rooms are spread over them,
                          one instance each, storage shared (config: "workers")
  -h, --help              show this help
`;

export const DEV_HELP = `Usage: partyhouse dev [script] [options]

Runs the project for development: pretty logs, and every change to a file the server
imports rebuilds it and reloads the rooms (sockets close with 1012 so clients reconnect;
storage is kept). A build error is shown and the previous code keeps running.
[script] replaces "main" from the config.

${RUN_OPTIONS}`;

export const START_HELP = `Usage: partyhouse start [script] [options]

Runs the project for production: builds once, no file watching, one JSON log line per
event on stderr. SIGINT/SIGTERM close the server and flush storage before exiting.
With --workers, kill -HUP <supervisor pid> builds the project again and replaces the
workers one at a time (WebSockets close once with 1012; partysocket reconnects).
[script] replaces "main" from the config.

${RUN_OPTIONS}`;

export const DATA_HELP = `Your rooms' data: backups, exports, and moving between SQLite and a cluster.

Usage:
  partyhouse backup <file>  [--from <folder|url>] [--admin <url>]
  partyhouse restore <file|-> [--to <folder|url>] [--force]
  partyhouse export [file|-] [--party <name>] [--prefix <room prefix>] [--readable]
                             [--from <folder|url>] [--admin <url>]
  partyhouse import <file|-> [--to <folder|url>] [--party <name>] [--prefix <room prefix>]
                             [--replace] [--force]
  partyhouse migrate --from <folder|url> --to <url|folder> [--force]

A store is a data folder (what --persist names, default .partyhouse next to the config) or a
cluster database (postgres://...). Without --from/--to, the project's store is used (found
from partykit.json as start finds it: "cluster", PARTYHOUSE_CLUSTER, or "persist").

Options:
  --from <folder|url>     the store to read (a data folder in use by a server is refused:
                          use --admin, or the config's "admin" port is tried)
  --admin <url>           read through a running server's admin listener: the copy is
                          consistent and taken while it serves (SQLite)
  --admin-token <token>   its token (or PARTYHOUSE_ADMIN_TOKEN)
  --to <folder|url>       the store to write; no server may be using it
  --party <name>          only this party's rooms
  --prefix <prefix>       only rooms whose id starts with this
  --readable              export: add each value as JSON (or its type) beside its bytes
  --replace               import: empty each imported room first (default: merge keys)
  --force                 restore/migrate: replace what the target holds; import: go on
                          although the target holds another unfinished operation
  -c, --config <file>     the project's config file

Files ending in .gz are written gzipped; gzipped input is recognized. Restore, import and
migrate mark the target incomplete until they finish: partyhouse refuses to serve it, and
running the same command again completes it. Format and guarantees: src/data/README.md.
`;
