"""LayerLab benchmarks (`make bench`, `make bench QUICK=1`): what the no-code tool costs
against writing the same thing by hand. One module per case; docs/BENCHMARKS.md has the
write-up and bench/results/*.json the raw numbers."""
