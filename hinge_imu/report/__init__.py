"""After the session: figures, the PDF report, CSV exports, progress across sessions.

* ``timeline`` — the session (or a set) over time (split into pages of 3 min at most)
* ``sets``    — the sets of a session, from the rests between reps
* ``overview`` — the overview page of a session of several sets
* ``plots``   — reps overlaid, scores and mistakes (re-exports the timeline)
* ``tables``  — calibration and data quality, each rep against the thresholds
* ``compare`` — the progress page across sessions
* ``exports`` — ``reps.csv``, ``angles.csv``, ``summary.csv``, ``columns.csv`` as plain
  columns (written without pandas), or as DataFrames for notebooks
* ``pdf``     — figures → PDF / PNG bytes
* ``pages``   — a report's pages planned, then drawn by one process or two
* ``cores``   — whether a second core is free to draw (measured from /proc/stat)
* ``build``   — ``render_report`` / ``write_report``: everything, written atomically

Figures draw on the Agg canvas directly (no pyplot, never shown). See docs/reports.md.
"""
