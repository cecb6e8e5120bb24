/** The text of `--help` for the program and each command. */

export const TOP_HELP = `partyhouse: run PartyKit projects on Node.js

Usage:
  partyhouse dev [script]     run the project, rebuilding and reloading on file changes
  partyhouse start [script]   run the project for production (no watching, JSON logs)
  partyhouse init [dir]       create a new project (partykit.json, a typed server, a page, a test)

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
  --max-body-size <size>  largest request body, bytes or e.g. 10mb (default 100mb; 413 above)
  --allowed-origins <list>  comma-separated Origins allowed to connect (default: any); others get 403
  --trust-proxy           believe x-forwarded-for / cf-connecting-ip / x-real-ip from clients
                          (only behind a proxy that sets them; default off)
  --max-event-ms <ms>     an event that blocks the event loop this long ends the process
                          (default 30000, exit code 70)
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
[script] replaces "main" from the config.

${RUN_OPTIONS}`;
