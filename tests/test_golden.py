"""Behaviour is preserved: tiny fixed-seed runs of every algorithm give the recorded results.

The records in tests/golden/ were written by tests/golden_runs.py; any difference in a return,
a sample count or a training-log entry fails here (wall times and paths are left out).
"""
import pytest

import golden_runs


@pytest.mark.parametrize('name', sorted(golden_runs.RUNS))
def test_run_gives_the_recorded_results(name):
  assert golden_runs.run(name) == golden_runs.recorded(name)
