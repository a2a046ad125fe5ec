import sys

from core.cli import main

if __name__ == "__main__":  # a spawned worker re-imports __main__ without this name
    sys.exit(main())
