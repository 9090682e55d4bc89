"""What runs in verl's environment: the reward verl loads in its reward-loop workers (`reward`,
with `reward_tally` for its parts per step), the Ray job's entry point (`job`), the preflight that
checks our config, dataset, reward and actors with verl's own code (`preflight`, `reward_loop`),
and the command line built from the settings (`config`); `launch_checks` runs in Dagster's
process before submission, with the environments in `requirements/`.

verl cannot share an environment with Dagster (its requirements/common.txt says why), so no
module here imports Dagster; a test holds every one of them to that.
"""
