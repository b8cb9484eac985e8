"""Named random streams from one seed.

Every consumer of randomness (task sampling, weight initialization, each real
environment's resets, OU noise, policy sampling, virtual resets, model minibatches,
shadow models, each test task) draws from its own stream, named by a path of words:

    numpy_stream(seed, 'agent', 'minibatches')
    numpy_stream(seed, 'test_task', 7, 'env', 3)

A stream is numpy's `SeedSequence(entropy=seed, spawn_key=path)`: different seeds or
different paths give independent streams (numpy's guarantee for distinct entropy and
spawn keys), so no two seeds share a stream, unlike consecutive integer seeds
(`default_rng(seed + i)`), where environment i of seed s and environment i - 1 of seed
s + 1 would draw the same numbers. TensorFlow generators get a Philox key from the
same sequence.
"""
import zlib
from typing import Union

import numpy as np

Word = Union[str, int]
_STRING_TAG = 1 << 32  # keeps a hashed name apart from every small integer index


def _word(word: Word) -> int:
  if isinstance(word, str):
    return _STRING_TAG | zlib.crc32(word.encode())
  word = int(word)
  if word < 0:
    raise ValueError(f'Stream indices must be non-negative, got {word}.')
  return word


def sequence(seed: int, *path: Word) -> np.random.SeedSequence:
  """The SeedSequence of the stream named path under seed."""
  if int(seed) < 0:
    raise ValueError(f'The seed must be a non-negative integer, got {seed}.')
  return np.random.SeedSequence(entropy=int(seed), spawn_key=tuple(_word(w) for w in path))


def numpy_stream(seed: int, *path: Word) -> np.random.Generator:
  """A numpy Generator (PCG64) for the stream."""
  return np.random.Generator(np.random.PCG64(sequence(seed, *path)))


def philox_state(seed: int, *path: Word) -> np.ndarray:
  """A TensorFlow Philox generator state [3] int64 for the stream: counter 0, key from the
  sequence (use with tf.random.Generator.from_state(state, 'philox'))."""
  return philox_from_key(sequence(seed, *path).generate_state(1, np.uint64)[0])


def philox_from_key(key: int) -> np.ndarray:
  """A TensorFlow Philox generator state [3] int64: counter 0, the given 64-bit key (distinct
  keys: independent streams)."""
  return np.array([0, 0, key], np.uint64).view(np.int64)
