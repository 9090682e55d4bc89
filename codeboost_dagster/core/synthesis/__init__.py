"""Call-input synthesis (METHOD.md section 1b): functions a snippet defines but never calls become
programs with `call` test cases, found without an LLM and run only in the sandbox."""

from codeboost_dagster.core.synthesis.synthesize import SYNTHESIZED, SynthesisOutcome, cases_by_source, synthesize_calls

__all__ = ["SYNTHESIZED", "SynthesisOutcome", "cases_by_source", "synthesize_calls"]
