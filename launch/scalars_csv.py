"""Writes a run's TensorBoard scalars as a CSV table, one row per step.

python -m launch.scalars_csv --out=meta_training.csv RUN_DIR
python -m launch.scalars_csv --out=meta_training.csv --index=meta_iteration \
    --columns=pre_update_return=train/pre_update_return,post_update_return=train/collect_return \
    RUN_DIR

Every event file of the run directory is read, oldest first, so a run resumed across several
processes gives one table; a step written twice (a step redone after a crash) keeps its latest
value. Without --columns the table has one column per tag under --prefix, named by the tag's last
part. --index adds a first column counting the rows from 1 (e.g. the meta-iteration of a MAML run,
whose step is its real-sample count).
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
import csv
import glob
import os
from typing import Dict, List, Optional, Sequence, Tuple

import tensorflow as tf
from absl import app
from absl import flags
from absl import logging

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the command line's flags; only when this module is the program, so that importing it
  (a test, another launcher) defines none and cannot collide with flags of the same name."""
  flags.DEFINE_string('out', 'scalars.csv', 'Output CSV path.')
  flags.DEFINE_string('prefix', 'train/', 'Without --columns: the tags taken, those starting with this.')
  flags.DEFINE_list('columns', None, 'name=tag pairs, in column order (default: every tag under --prefix).')
  flags.DEFINE_string('index', None, 'Name of a first column numbering the rows 1, 2, ... (default: none).')


def read_scalars(run_dir: str) -> Dict[str, Dict[int, float]]:
  """{tag: {step: value}} of every scalar in the run directory's event files."""
  paths = sorted(glob.glob(os.path.join(run_dir, 'events.out.tfevents.*')))  # oldest first
  if not paths:
    raise FileNotFoundError(f'No TensorBoard event file in {run_dir}: pass a run directory.')
  written: Dict[str, Dict[int, Tuple[float, float]]] = {}  # tag -> step -> (wall time, value)
  for path in paths:
    for event in _events(path):
      for value in event.summary.value:
        number = float(tf.make_ndarray(value.tensor)) if value.HasField('tensor') else value.simple_value
        previous = written.setdefault(value.tag, {}).get(event.step)
        if previous is None or event.wall_time >= previous[0]:
          written[value.tag][event.step] = (event.wall_time, number)
  return {tag: {step: value for step, (_, value) in steps.items()} for tag, steps in written.items()}


def _events(path: str):
  """The events of one file; a file cut short (a process killed while writing) yields the
  events before the cut, with a warning."""
  try:
    for record in tf.data.TFRecordDataset(path):
      yield tf.compat.v1.Event.FromString(record.numpy())
  except tf.errors.DataLossError:
    logging.warning('%s ends in an incomplete record (its process was stopped while writing); '
                    'using the events before it.', path)


def table(scalars: Dict[str, Dict[int, float]], columns: Sequence[Tuple[str, str]],
          index: Optional[str] = None) -> List[List]:
  """Rows [index?, step, value per column] over the steps any column has, ascending; a column
  missing at a step is left empty."""
  for name, tag in columns:
    if tag not in scalars:
      raise KeyError(f'Column {name!r}: the run has no tag {tag!r}; its tags: {sorted(scalars)}.')
  steps = sorted({step for _, tag in columns for step in scalars[tag]})
  header = ([index] if index else []) + ['step'] + [name for name, _ in columns]
  rows = [header]
  for number, step in enumerate(steps, start=1):
    values = [scalars[tag].get(step, '') for _, tag in columns]
    rows.append(([number] if index else []) + [step] + [f'{v:.6g}' if v != '' else v for v in values])
  return rows


def parse_columns(pairs: Optional[Sequence[str]], scalars, prefix: str) -> List[Tuple[str, str]]:
  if not pairs:
    tags = sorted(tag for tag in scalars if tag.startswith(prefix))
    if not tags:
      raise ValueError(f'No tag starts with {prefix!r}; the run has: {sorted(scalars)}. Set --prefix.')
    return [(tag.split('/')[-1], tag) for tag in tags]
  columns = []
  for pair in pairs:
    name, separator, tag = pair.partition('=')
    if not separator or not name or not tag:
      raise ValueError(f'--columns entry {pair!r} is not name=tag (e.g. kl=train/policy_kl).')
    columns.append((name, tag))
  return columns


def main(argv):
  if len(argv) != 2:
    raise app.UsageError('Give one run directory.')
  scalars = read_scalars(argv[1])
  rows = table(scalars, parse_columns(FLAGS.columns, scalars, FLAGS.prefix), FLAGS.index)
  os.makedirs(os.path.dirname(FLAGS.out) or '.', exist_ok=True)
  with open(FLAGS.out, 'w', newline='') as f:
    csv.writer(f).writerows(rows)
  print(f'Wrote {FLAGS.out}: {len(rows) - 1} rows')


if __name__ == '__main__':
  define_flags()
  app.run(main)
