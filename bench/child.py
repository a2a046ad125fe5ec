"""`python -m bench.child MODULE:FUNCTION PARAMS.json OUT.json`: one measurement in a fresh interpreter."""
import sys

from bench.harness import child_main

if __name__ == "__main__":
    child_main(sys.argv[1:])
