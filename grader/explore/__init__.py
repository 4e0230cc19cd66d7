"""Systematic exploration: which schedules to run after the first ones, decided from what they did.

Pure: from the events of finished runs to the next schedules (race-directed, as in DPOR). The
runner executes what this plans; the verdicts never depend on how a schedule was chosen.
"""
