"""Behaviour is preserved: tiny fixed-seed runs of every algorithm give the recorded results.

The records in tests/golden/<machine>/ were written by tests/golden_runs.py; on a machine of a
recorded kind, any difference in a return, a sample count or a training-log entry fails here
(wall times and paths are left out). Floating-point bits differ between kinds of machine
(golden_runs.py says why): elsewhere the record's structure is checked and the bit-for-bit
comparison is skipped, saying how to record this machine.
"""
import json

import pytest

import golden_runs

HERE = golden_runs.machine()
FOLDER = golden_runs.recording_for(HERE)


@pytest.mark.parametrize('name', sorted(golden_runs.RUNS))
def test_run_gives_the_recorded_results(name):
  result = golden_runs.run(name)
  if FOLDER is not None:
    assert result == golden_runs.recorded(name, FOLDER)
    return
  recorded = golden_runs.recorded(name, golden_runs.recordings()[0])
  assert golden_runs.shape(result) == golden_runs.shape(recorded)
  pytest.skip(f'No recording for this machine ({json.dumps(HERE)}): structure checked, bits '
              f'not compared. Record with `PYTHONPATH=. python tests/golden_runs.py`.')


def test_recordings_say_which_machine_made_them():
  folders = golden_runs.recordings()
  assert folders, 'tests/golden/ holds no recording'
  for folder in folders:
    for name in golden_runs.RUNS:
      assert golden_runs.recorded(name, folder)['algorithm'], (folder, name)
