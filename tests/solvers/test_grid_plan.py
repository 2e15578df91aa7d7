"""solvers/grid.py: which step completes which output, with what slope, at any magnitude and in float32."""

import pytest
import torch

from solvers.grid import fixed_grid, interpolate, output_plan


def test_an_output_between_the_two_points_of_a_one_step_decreasing_grid():
    t = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)
    grid = fixed_grid(t, 1.0)
    assert grid == [1.0, 0.0]
    assert output_plan(t.tolist(), grid) == [((1, 0.5), (2, 1.0))]


def test_an_output_on_the_first_point_is_the_start_of_the_first_step():
    assert output_plan([0.0, 0.25, 1.0], [0.25, 0.5, 1.0]) == [((1, 0.0),), ((2, 1.0),)]


@pytest.mark.parametrize("grid, times", [
    ([1.6e308, 1.65e308, 1.7e308], [1.6e308, 1.7e308]),
    ([1.7e308, 1.65e308, 1.6e308], [1.7e308, 1.6e308]),
    ([-1.6e308, -1.65e308, -1.7e308], [-1.6e308, -1.7e308]),
])
def test_outputs_near_the_largest_float_are_completed_by_the_step_that_reaches_them(grid, times):
    assert output_plan(times, grid) == [(), ((1, 1.0),)]


def test_float32_output_inside_the_grid_has_slope_exactly_one():
    t = torch.tensor([0.0, 0.7, 1.0], dtype=torch.float32)
    plan = output_plan(t.tolist(), fixed_grid(t, 0.1), t.dtype)
    assert plan[6] == ((1, 1.0),) and plan[9] == ((2, 1.0),)


def test_the_step_limit_message_quotes_the_first_and_last_output_times():
    t = torch.tensor([0.0, 1.0, 100.0], dtype=torch.float64)
    expected = ("step_size: 0.01 over [0, 100] is 10000 steps, more than the limit of 50 per solve (about 100 bytes "
                "of grid a step); take a longer step_size, or raise the limit with options={'max_steps': 10000}")
    with pytest.raises(ValueError) as error:
        fixed_grid(t, 0.01, max_steps=50)
    assert str(error.value) == expected
    assert len(fixed_grid(t, 0.01, max_steps=None)) == 10001


def test_interpolation_returns_the_end_points_themselves():
    y0 = torch.tensor([1.0e16], dtype=torch.float64)
    y1 = torch.tensor([1.0], dtype=torch.float64)
    assert interpolate(y0, y1, 0.0) is y0
    assert interpolate(y0, y1, 1.0) is y1
    assert torch.equal(interpolate(y0, y1, 0.25), torch.tensor([0.75e16 + 0.25], dtype=torch.float64))
