"""Numbers the original code produced, drawn beside ours (never used to set anything).

Mean return over the 40 test tasks after 0, 1, 2, 3 adaptation iterations, by experiment and
algorithm. An entry with one value is a policy without updates (an oracle). Where known, an
entry also carries the spread over test tasks (+-1 sd) at each of those iterations.
"""
import dataclasses
from typing import Dict, Optional, Tuple

SMTL_SOURCE = ("authors' SMTL runs (nlandolfi/slbo branch maml, notebooks/ALL.ipynb, read off "
               "the plot, +-1-3%; sd over test tasks: the plot's error bars measured in pixels)")
# The SMTL spreads: half-lengths of the error bars of ALL.ipynb's 8-panel plot (ax[0, 0] HCFB =
# halfcheetah_fwdbwd, ax[0, 1] HCP = halfcheetah_vel, ax[0, 2] HCF = halfcheetah_vel_full), drawn
# there as plt.errorbar(x, np.mean(R, axis=0), yerr=np.std(R, axis=0)) with R one row per test task
# (40 evaluation jobs): population sd (ddof=0), as our task_spread. Measured on the notebook's
# embedded PNG: pixel rows mapped to returns by a linear fit of the y-axis ticks; bar ends are
# snapped to whole pixels, so +-0.5 px = +-0.14 (fwdbwd), +-0.11 (vel), +-0.10 (vel_full). The bar
# midpoints reproduce the means above within 0.35 (vel, vel_full) and 0.4 (fwdbwd), and the
# notebook's single-panel plots of the same arrays give the same spreads within 0.2.
MAML_SOURCE = 'Finn et al. 2017, Fig. 5 (cbfinn/maml_rl icml/ result files, 40 goals)'
# The MAML runs behind those files, per maml_rl's test scripts (maml_examples/test_maml_cheetah*.py);
# each differs from its launcher's setting (20 episodes per task, KL 0.01, up to 800 iterations).
MAML_VEL_SOURCE = (MAML_SOURCE + '; MAML: the run with 10 episodes per task and batch (fbs10), '
                   'meta-iteration 475')
MAML_FWDBWD_SOURCE = (MAML_SOURCE + '; MAML: the run with a meta-step KL bound of 0.02 (mlr0.02), '
                      'meta-iteration 100')


@dataclasses.dataclass(frozen=True)
class Reference:
  algorithm: str     # the algorithm of ours it is compared with ('smtl', 'maml', 'oracle')
  label: str         # legend and table label
  source: str
  returns: Tuple[float, ...]
  # +-1 sd over the test tasks at each iteration of `returns`, read off the same plot (in pixels,
  # see above); None where not known.
  spread: Optional[Tuple[float, ...]] = None


REFERENCES: Dict[str, Tuple[Reference, ...]] = {
    'halfcheetah_vel': (
        Reference('smtl', 'SMTL (original code)', SMTL_SOURCE, (-30.5, -32.0, -27.7, -26.8),
                  spread=(25.6, 21.9, 20.2, 20.0)),
        Reference('maml', 'MAML-TRPO (original code)', MAML_VEL_SOURCE,
                  (-129.5, -78.6, -66.6, -60.8)),
        Reference('oracle', 'oracle (maml_rl)', MAML_SOURCE, (-54.5,)),
        Reference('random', 'random initialization + PG (maml_rl)', MAML_SOURCE,
                  (-255.0, -254.0, -247.0, -231.0)),
    ),
    'halfcheetah_vel_full': (
        Reference('smtl', 'SMTL (original code)', SMTL_SOURCE, (-29.4, -29.7, -28.1, -28.3),
                  spread=(20.7, 21.0, 20.4, 20.6)),
    ),
    'halfcheetah_fwdbwd': (
        Reference('smtl', 'SMTL (original code)', SMTL_SOURCE, (727.0, 731.0, 751.0, 758.0),
                  spread=(14.0, 12.0, 22.3, 18.1)),
        Reference('maml', 'MAML-TRPO (original code)', MAML_FWDBWD_SOURCE,
                  (-50.7, 293.2, 313.5, 315.7)),
        Reference('oracle', 'oracle (maml_rl)', MAML_SOURCE, (442.7,)),
    ),
}


POINT_SOURCE = ('Finn et al. 2017, Fig. 2, point robot (cbfinn/maml_rl icml/icml_point_results_*.pkl, '
                '40 goals); MAML: the run with 20 episodes per task, 20 tasks per meta-batch, inner '
                'step 0.5, 100 meta-iterations; random: a fresh tanh network adapted the same way')

# maml_rl's point-robot results, for the MuJoCo-free check of MAML at maml_rl's point setting
# (results/paper/point_nav_maml_rl/).
REFERENCES['point_nav_maml_rl'] = (
    Reference('maml', 'MAML-TRPO (original code)', POINT_SOURCE, (-40.41, -11.68, -3.33, -3.23)),
    Reference('oracle', 'oracle (maml_rl)', POINT_SOURCE, (-2.29,)),
    Reference('random', 'random initialization + PG (maml_rl)', POINT_SOURCE,
              (-82.66, -57.96, -53.84, -46.81)),
)
# The same trained runs measured as maml_rl measured (run_maml.eval_protocol = 'maml_rl_vectorized').
REFERENCES['point_nav_maml_rl_vectorized'] = REFERENCES['point_nav_maml_rl']


def for_experiment(experiment: str) -> Tuple[Reference, ...]:
  return REFERENCES.get(experiment, ())
