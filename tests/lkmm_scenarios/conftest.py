"""The scenarios here are test data (tests/test_lkmm_*.py check them with
exact counts); pytest's own run over tests/ does not collect them."""

collect_ignore_glob = ["*.yaml"]
