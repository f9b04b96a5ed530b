"""python -m demo.extracts: see demo/extracts/cli.py."""

from demo.extracts.cli import main

if __name__ == "__main__":  # not when multiprocessing's spawn re-imports the main module
    raise SystemExit(main())
