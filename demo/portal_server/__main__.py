"""python -m demo.portal_server: see demo/portal_server/cli.py."""

import sys

from demo.portal_server.cli import main

if __name__ == "__main__":
    sys.exit(main())
