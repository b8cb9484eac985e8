"""Entry point for the baselines: python -m maml_tf.main --gin_file=gin/maml/<experiment>.gin.

The same program as smtl_tf.main (one train_eval dispatches every algorithm, so runs share
flags, run directory and results schema); gin/oracle/<experiment>.gin runs the oracle.
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
from absl import app

from smtl_tf import main as smtl_main

if __name__ == '__main__':
  app.run(smtl_main.main)
