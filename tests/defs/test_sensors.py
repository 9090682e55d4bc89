"""The new-dump sensor, evaluated with build_sensor_context against a test instance."""

from __future__ import annotations

import dagster as dg

from codeboost_dagster.defs.ingestion import code_dumps, new_dump_sensor
from codeboost_dagster.resources.dumps import DumpFolder
from tests.helpers import GOOD_PROGRAM


def _tick(instance, folder):
    context = dg.build_sensor_context(instance=instance, resources={"dumps": DumpFolder(path=str(folder))})
    return new_dump_sensor(context)


def test_new_dump_adds_partition_and_requests_a_run(tmp_path):
    (tmp_path / "first.jsonl").write_text('{"code": "print(1)"}\n')
    (tmp_path / "bad name.py").write_text(GOOD_PROGRAM)
    (tmp_path / ".hidden").write_text("x")
    with dg.instance_for_test() as instance:
        result = _tick(instance, tmp_path)
        assert [request.partition_key for request in result.run_requests] == ["first.jsonl"]
        assert result.dynamic_partitions_requests[0].partition_keys == ["first.jsonl"]
        instance.add_dynamic_partitions(code_dumps.name, ["first.jsonl"])

        again = _tick(instance, tmp_path)
        assert again.dynamic_partitions_requests == []
        assert again.run_requests[0].run_key == result.run_requests[0].run_key

        folder = tmp_path / "second"
        folder.mkdir()
        (folder / "a.py").write_text(GOOD_PROGRAM)
        third = _tick(instance, tmp_path)
        assert third.dynamic_partitions_requests[0].partition_keys == ["second"]


def test_changed_dump_gets_a_new_run_key(tmp_path):
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"code": "print(1)"}\n')
    with dg.instance_for_test() as instance:
        before = _tick(instance, tmp_path).run_requests[0].run_key
        dump.write_text('{"code": "print(1)"}\n{"code": "print(2)"}\n')
        after = _tick(instance, tmp_path).run_requests[0].run_key
    assert before != after


def test_empty_or_missing_folder_skips(tmp_path):
    with dg.instance_for_test() as instance:
        result = _tick(instance, tmp_path / "missing")
    assert isinstance(result, dg.SkipReason)
