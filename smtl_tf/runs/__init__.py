"""The run skeleton every algorithm runs in, and the evaluation protocol they share.

main -> skeleton.run(algorithm) -> the algorithm's phases -> its kernels. Here: the run
directory (directory.py), its operative configuration (config.py), checkpointed random
streams and counters (state.py), one logger per run (logger.py), the test tasks and
train/test compatibility (protocol.py), and results.json (results.py).
"""
