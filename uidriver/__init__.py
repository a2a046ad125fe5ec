"""Driving LayerLab in a real browser with Playwright, for the browser tests (tests/e2e) and the
benchmarks (bench/) alike: Debian's Chromium (`chromium`), page actions on the app's widget keys
(`ui`), and the steps a user takes through the app (`flows`).

Not part of the app and never imported by it."""
