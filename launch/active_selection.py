"""Figure 3 runs: SMTL with and without active task selection, per regime, rating and seed.

python -m launch.active_selection --regimes=5,20,30 --ratings=true,estimated --seeds=0,1,2 \
    [--overlay=gin/quick.gin] [--root_dir=runs] [--out=results/figure3] [--iteration=-1]

Each job is gin/ant_vel2d_active.gin + the overlays + gin/active/tasks_<n>.gin +
gin/active/rating_<r>.gin (the non-active baseline 'none' always runs too), writing
<root_dir>/ant_vel2d_active_<n>/smtl_<rating>/seed_<s>/. When every job has finished,
the figure and its table are written (launch/plot_active.py, whose --out and --iteration
flags apply).
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
import os

from absl import app
from absl import flags

from launch import cli
from launch import jobs as jobs_lib
from launch import plot_active
from smtl_tf.runs import results as results_lib

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The shared launch flags (launch/cli.py), plot_active's (--out, --iteration) and this
  command's own."""
  cli.define_flags()
  plot_active.define_flags()
  flags.DEFINE_list('regimes', ['5', '20', '30'], 'Numbers of training tasks kept.')
  flags.DEFINE_list('ratings', ['true', 'estimated'], "Active ratings ('none' always runs).")


def main(argv):
  del argv
  try:
    jobs = jobs_lib.active_selection_jobs(FLAGS.regimes, FLAGS.ratings, cli.seeds(),
                                          FLAGS.overlay, FLAGS.gin_bindings, FLAGS.root_dir)
  except ValueError as error:
    raise app.UsageError(f'{error} (regimes need gin/active/tasks_<n>.gin, ratings '
                         f'gin/active/rating_<r>.gin).') from error
  root = os.path.abspath(FLAGS.root_dir)
  cli.run_jobs(jobs, root)
  out = FLAGS.out
  directories = [os.path.join(root, f'ant_vel2d_active_{regime}') for regime in FLAGS.regimes]
  paired = plot_active.paired_differences(
      results_lib.load_readable(results_lib.find(directories)))
  plot_active.plot(paired, FLAGS.iteration, out)
  with open(f'{out}.md', 'w') as f:
    f.write(plot_active.table(paired) + '\n')
  print(plot_active.table(paired))
  print(f'Wrote {out}.png and {out}.md')


if __name__ == '__main__':
  define_flags()
  app.run(main)
