"""The GP portal: sub-fund managers' quarterly packages, their template, tie-out and review.

The checks themselves are pure, in portfolio/figures/tieout.py; `samples` (pure) builds test packages."""
