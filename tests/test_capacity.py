"""Unit tests of the capacity planner (extensions/capacity.py)."""

from __future__ import annotations

import pytest

from extensions.capacity import (
    CapacityError,
    CapacityInputs,
    CapacityPlan,
    plan_capacity,
    split_pool,
    surge_replicas,
)


def test_default_gunicorn_plan_on_sqlite() -> None:
    plan = plan_capacity(
        CapacityInputs(deploy_target="gunicorn", max_replicas=1, web_processes=2, per_process_cap=5)
    )
    assert plan.budget is None
    assert (plan.pool_size, plan.max_overflow) == (3, 2)
    assert plan.gunicorn_workers == 2
    # A HUP reload runs the new workers next to the old ones.
    assert plan.web_processes_worst_case == 4


def test_worst_case_fits_the_budget() -> None:
    inputs = CapacityInputs(
        deploy_target="kubernetes",
        max_replicas=10,
        web_processes=1,
        max_connections=100,
        reserved_connections=10,
        worker_processes=2,
        worker_concurrency=4,
    )
    plan = plan_capacity(inputs)
    assert plan.surge_replicas == 3  # 25% of 10, rounded up
    assert plan.web_processes_worst_case == 13
    assert plan.worker_connections == 3 * 4  # 2 workers + 1 surge, 4 jobs each
    assert plan.per_process_share == (90 - 12) // 13
    assert plan.budget is not None
    assert plan.worst_case_connections <= plan.budget
    assert plan.connections_per_process == 6
    assert (plan.pool_size, plan.max_overflow) == (3, 3)


def test_share_is_capped_per_process() -> None:
    plan = plan_capacity(
        CapacityInputs(
            deploy_target="gunicorn", max_replicas=1, web_processes=1, max_connections=1000
        )
    )
    assert plan.per_process_share == 500
    assert plan.connections_per_process == 20


def test_exact_fit_is_accepted() -> None:
    # 4 web processes at the peak, 1 connection each, plus 1 reserved = 5.
    plan = plan_capacity(
        CapacityInputs(
            deploy_target="gunicorn",
            max_replicas=1,
            web_processes=2,
            max_connections=5,
            reserved_connections=1,
        )
    )
    assert (plan.pool_size, plan.max_overflow) == (1, 0)
    assert plan.worst_case_connections == plan.budget == 4


def test_lambda_has_no_surge() -> None:
    assert surge_replicas("lambda", 100) == 0
    plan = plan_capacity(
        CapacityInputs(
            deploy_target="lambda", max_replicas=90, web_processes=1, max_connections=100
        )
    )
    assert plan.web_processes_worst_case == 90
    assert plan.connections_per_process == 1


def test_impossible_plan_is_refused_with_numbers_and_fixes() -> None:
    inputs = CapacityInputs(
        deploy_target="kubernetes",
        max_replicas=100,
        web_processes=1,
        max_connections=100,
        reserved_connections=10,
    )
    with pytest.raises(CapacityError) as refused:
        plan_capacity(inputs)
    message = str(refused.value)
    assert "125 web processes" in message
    assert "db_max_connections 100" in message
    for fix in ("max_replicas", "db_pooler", "raise db_max_connections"):
        assert fix in message
    assert "\n" not in message


def test_workers_alone_can_exhaust_the_budget() -> None:
    with pytest.raises(CapacityError, match="for queue workers"):
        plan_capacity(
            CapacityInputs(
                deploy_target="gunicorn",
                max_replicas=1,
                web_processes=1,
                max_connections=50,
                worker_processes=10,
                worker_concurrency=10,
            )
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_replicas", 0, "max_replicas must be at least 1"),
        ("web_processes", 0, "web_processes must be at least 1"),
        ("worker_processes", -1, "cannot be negative"),
        ("reserved_connections", 100, "must be below"),
        ("deploy_target", "nomad", "unknown deploy target"),
    ],
)
def test_nonsense_inputs_are_refused(field: str, value: object, message: str) -> None:
    values: dict[str, object] = {
        "deploy_target": "gunicorn",
        "max_replicas": 1,
        "web_processes": 1,
        "max_connections": 100,
        field: value,
    }
    with pytest.raises(CapacityError, match=message):
        plan_capacity(CapacityInputs(**values))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("total", "split"), [(1, (1, 0)), (2, (1, 1)), (5, (3, 2)), (20, (10, 10))]
)
def test_split_pool(total: int, split: tuple[int, int]) -> None:
    assert split_pool(total) == split


def test_pgbouncer_plans_a_null_pool_and_never_refuses() -> None:
    plan = plan_capacity(
        CapacityInputs(
            deploy_target="kubernetes",
            max_replicas=100,
            web_processes=1,
            max_connections=100,
            reserved_connections=10,
            pooler="pgbouncer",
        )
    )
    assert plan.uses_null_pool
    assert plan.budget == 90
    assert plan.per_process_share is None
    assert plan.pooler_max_client_conn == 125 * 20


def test_rds_proxy_keeps_a_capped_client_pool() -> None:
    plan = plan_capacity(
        CapacityInputs(
            deploy_target="gunicorn",
            max_replicas=40,
            web_processes=2,
            max_connections=100,
            pooler="rds_proxy",
        )
    )
    assert not plan.uses_null_pool
    assert (plan.pool_size, plan.max_overflow) == (10, 10)


def test_unknown_pooler_is_refused() -> None:
    with pytest.raises(CapacityError, match="unknown pooler"):
        plan_capacity(
            CapacityInputs(deploy_target="gunicorn", max_replicas=1, web_processes=1, pooler="x")
        )


def test_lambda_plan_counts_reserved_concurrency_one_connection_each() -> None:
    def lambda_plan(reserved_concurrency: int) -> CapacityPlan:
        return plan_capacity(
            CapacityInputs(
                deploy_target="lambda",
                max_replicas=reserved_concurrency,
                web_processes=1,
                max_connections=100,
                reserved_connections=10,
                per_process_cap=1,
            )
        )

    plan = lambda_plan(80)
    assert (plan.pool_size, plan.max_overflow) == (1, 0)
    assert plan.worst_case_connections == 80
    with pytest.raises(CapacityError, match="100 web processes"):
        lambda_plan(100)


def test_kubernetes_plan_sizes_one_process_pods() -> None:
    plan = plan_capacity(
        CapacityInputs(
            deploy_target="kubernetes", max_replicas=10, web_processes=1, max_connections=100
        )
    )
    assert (plan.min_replicas, plan.surge_percent) == (2, 25)
    assert (plan.cpu_request, plan.cpu_limit) == ("500m", "1000m")
    assert (plan.memory_request, plan.memory_limit) == ("256Mi", "512Mi")
    single = plan_capacity(
        CapacityInputs(deploy_target="kubernetes", max_replicas=1, web_processes=1)
    )
    assert single.min_replicas == 1
