"""smtl-tf: Sequential Multi-task Learning (Landolfi, Thomas, Ma 2019) in TensorFlow 2."""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # keep C++ start-up chatter out of the logs
