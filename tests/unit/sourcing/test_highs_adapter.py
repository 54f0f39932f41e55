"""The HiGHS adapter of the exact-solver port, on instances small enough to reason about."""

from service.domain.sourcing.exact import ExactInstance
from service.solvers import highs


def test_a_full_plan_that_cannot_exist_is_proven_infeasible():
    # two lines of 2 units; each item holds one unit of one line; at most 2 shipments
    instance = ExactInstance([1.0, 2.0, 3.0], [(1, 0), (0, 1), (1, 0)], (2, 2), 2, True, 5.0)
    answer = highs.solve(instance)
    assert answer.status == "infeasible" and answer.chosen == ()


def test_a_backorder_ships_the_most_units_then_the_cheapest():
    instance = ExactInstance([1.0, 5.0, 2.0, 2.5], [(1, 0), (2, 0), (0, 1), (0, 1)], (2, 1), 2,
                             False, 5.0)
    answer = highs.solve(instance)
    assert answer.status == "optimal" and answer.solver == "highs"
    assert (sorted(answer.chosen), answer.units, answer.cost) == ([1, 2], 3, 7.0)


def test_a_solve_waiting_for_another_gives_up_when_its_time_is_spent():
    instance = ExactInstance([1.0], [(1,)], (1,), 1, True, 0.02)
    with highs._running:
        answer = highs.solve(instance)
    assert answer.status == "stopped" and "another plan" in answer.detail
    assert highs.solve(instance).status == "optimal"
