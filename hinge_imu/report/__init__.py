"""After the session: figures, the PDF report, CSV exports, progress across sessions.

* ``plots``   — the session over time, reps overlaid, scores and mistakes (Figures)
* ``tables``  — calibration and data quality, each rep against the thresholds
* ``compare`` — the progress page across sessions
* ``exports`` — ``reps.csv``, ``angles.csv``, ``summary.csv``, ``columns.csv`` as DataFrames
* ``pdf``     — figures → PDF / PNG bytes
* ``build``   — ``render_report`` / ``write_report``: everything, written atomically

Figures draw on the Agg canvas directly (no pyplot, never shown). See docs/reports.md.
"""
