"""Task families beyond the paper, each written with the public API of smtl_tf.envs only,
as a user's own module would be (README: "Your own tasks")."""
