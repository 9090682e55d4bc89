"""Partitions: one dynamic partition per code dump, added by the dumps sensor."""

from dagster import DynamicPartitionsDefinition

code_dumps = DynamicPartitionsDefinition(name="code_dumps")
