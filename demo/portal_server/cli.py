"""The command line: python -m demo.portal_server --store DIR --port N --token T [--pid-file F]."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from demo.portal_server.faults import FaultPlan
from demo.portal_server.server import DemoPortalServer

log = logging.getLogger(__package__)  # one logger for the server: "demo.portal_server"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.portal_server",
        description="Serve a demo store (<store>/<YYYY-MM>/<kind>.parquet) over the portal API contract "
        "(docs/portal_api.md). Prints the base URL on stdout once listening.",
    )
    parser.add_argument("--store", required=True, help="store folder: <store>/<YYYY-MM>/<kind>.parquet")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default 0)")
    parser.add_argument("--token", default=os.environ.get("DXMON_PORTAL_TOKEN"),
                        help="bearer token clients must send (default: $DXMON_PORTAL_TOKEN)")
    parser.add_argument("--pid-file", help="write this process id here; removed on exit")
    parser.add_argument("--faults", help="JSON file: a list of faults (see Fault) to inject")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.token:
        parser.error("no token: pass --token or set DXMON_PORTAL_TOKEN")
    if not Path(args.store).is_dir():
        parser.error(f"store folder {args.store} does not exist")
    faults = FaultPlan.from_json_file(args.faults) if args.faults else FaultPlan()

    server = DemoPortalServer(args.store, args.token, args.host, args.port, faults).bind()

    def stop(signum, _frame) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        server.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pid_file = Path(args.pid_file) if args.pid_file else None
    if pid_file:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{os.getpid()}\n")
    print(server.url, flush=True)
    try:
        server.serve_forever()
    finally:
        if pid_file:
            pid_file.unlink(missing_ok=True)
    log.info("demo portal stopped")
    return 0
