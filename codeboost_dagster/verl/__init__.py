"""What runs in verl's environment: the reward verl loads in its Ray workers (`reward`), the Ray
job's entry point (`job`), the preflight that checks our config, dataset and reward with verl's
own loaders (`preflight`), and the command line built from the settings (`config`).

verl cannot share an environment with Dagster (requirements/verl-worker.txt says why), so no
module here imports Dagster; a test holds every one of them to that.
"""
