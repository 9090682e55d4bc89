"""Connect this process to Ray for a stage: an existing cluster by address, or a single-node Ray
started here for the stage; a connection made here is closed afterwards, one found open is kept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def ray_session(
    address: str | None, namespace: str, num_cpus: int | None = None, runtime_env: dict[str, Any] | None = None
) -> Iterator[None]:
    """Inside: `ray` is initialised. `address` None starts a local Ray (`num_cpus`, default all cores)."""
    import ray

    if ray.is_initialized():
        yield
        return
    options: dict[str, Any] = {"namespace": namespace, "log_to_driver": False, "runtime_env": runtime_env}
    if address is None:
        options.update(
            address="local", num_cpus=num_cpus, include_dashboard=False
        )  # always a new one, never a neighbour's
    else:
        options["address"] = address
    ray.init(**options)
    try:
        yield
    finally:
        ray.shutdown()
