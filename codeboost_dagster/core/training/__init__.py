"""Training on the tasks (METHOD.md section 7): the verl-ready dataset (`verl_dataset`), the policy's
input text and batched greedy generation (`generation`, also used by the evaluation), and the
embedded single-machine GRPO trainer on TRL (`trl_training`). verl's own trainer runs from
`codeboost_dagster.verl`.
"""
