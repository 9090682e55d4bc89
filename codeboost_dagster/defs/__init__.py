"""The code location's definitions, one module per stage of the method: each holds the stage's
assets, checks, job, sensor, schedule and automation (`dg.load_from_defs_folder` collects them;
`definitions.py` adds the resources and the settings' code versions).

ingestion -> curation -> augmentation -> execution -> tasks -> verl_dataset (the training data,
rebuilt by `training_data`) -> training -> evaluation.
"""

from dagster import Backoff, Jitter, RetryPolicy

TRANSIENT_FAILURE_RETRY = RetryPolicy(max_retries=2, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
"""Steps that depend on a sandbox engine, a Ray cluster or a model cache can fail for reasons that
pass (an engine restart, a busy head node): retried after 5 s, then 10 s, jittered."""
