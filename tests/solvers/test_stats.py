"""SolveStats as a plain record: its counters and mode-specific figures in one flat dict."""

from solvers.stats import SolveStats


def test_as_dict_lists_every_counter_then_the_extra_figures():
    stats = SolveStats("verlet", "reversible", steps=12, nfe_forward=13, nfe_backward=25, extra={"anchors": 3})
    assert stats.as_dict() == {"method": "verlet", "backward": "reversible", "steps": 12, "nfe_forward": 13,
                               "nfe_backward": 25, "anchors": 3}
    assert SolveStats("imex", "backprop").as_dict() == {"method": "imex", "backward": "backprop", "steps": 0,
                                                        "nfe_forward": 0, "nfe_backward": 0}
