"""Per-session state behind the pages, apart from the widgets that draw it.

- `workspace`: the one Workspace per browser session (data, design, runs, caches).
- `runs`: the session's training runs (`SessionRun`) and the bookkeeping that keeps them
  up to date from the worker's events.
- `training_service`: the server-wide TrainingService every session's runs go through.
- `session_cleanup`: the server-wide reaper that frees the workspace of a closed tab.

Nothing here draws: the views in `components/` and the pages read and change this state.
"""
