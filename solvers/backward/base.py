"""The base class and contract of a backward mode: how a solve is run so that autograd produces its gradients."""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from ..options import Option, check_keys
from ..problem import Problem, fixed_steps
from ..registry import METHODS, get_method
from ..stats import SolveStats
from ..system import CountedFunction, is_split


class BackwardMode:
    """Base class and contract of a backward mode.

    A mode is an object with its own options, the way diffrax's adjoints are (``Checkpoint(every=8)``); the
    front door also accepts its name (``adjoint="checkpoint"``), which is the mode with its defaults. Each mode
    declares the options it reads in ``options`` (:class:`~solvers.options.Option`: name, type, range,
    default); the constructor checks them, so an unknown or out-of-range option is a ``ValueError`` naming it.
    An option can also be given in ``odeint(..., options=...)`` under its key (``"checkpoint_every"``).

    The bookkeeping every mode shares lives here, in :meth:`solve`: the field is wrapped to count its
    evaluations, the problem is checked against what the mode needs (``partitioned_only``, ``needs_split``,
    ``needs_inverse``, ``methods``), ``stats.steps`` is set for fixed-grid solves, and after the forward pass
    every further evaluation counts as backward. A mode implements :meth:`run` only.

    Class attributes:
        name: the name accepted by ``odeint(..., adjoint=name)``.
        options: the options the mode reads.
        supports_after_step: whether an ``after_step`` map can be applied between steps.
        partitioned_only: whether the mode steps the library's partitioned methods itself.
        needs_split: whether it evaluates ``force``, ``alpha``, ``gamma`` (the split protocol).
        needs_inverse: whether it undoes steps (the method must be invertible).
        methods: the only methods it implements, or None for every method it can run.
        exact: whether its gradient is that of the discrete solve (backprop's), up to round-off.
    """

    name: ClassVar[str]
    options: ClassVar[tuple[Option, ...]] = ()
    supports_after_step: ClassVar[bool] = False
    partitioned_only: ClassVar[bool] = False
    needs_split: ClassVar[bool] = False
    needs_inverse: ClassVar[bool] = False
    methods: ClassVar[tuple[str, ...] | None] = None
    exact: ClassVar[bool] = True

    def __init__(self, **options: Any):
        owner = f"adjoint={self.name!r}"
        check_keys(options, (o.name for o in self.options), owner, argument=f"{type(self).__name__}")
        self.config: dict[str, Any] = {o.name: o.check(options.get(o.name), owner) for o in self.options}

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.config.items() if v is not None)
        return f"{type(self).__name__}({given})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.config == self.config

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.config.items()))))

    @classmethod
    def option_keys(cls) -> dict[str, Option]:
        """The keys of ``odeint(..., options=...)`` that set this mode's options."""
        return {o.options_key: o for o in cls.options}

    def with_options(self, given: dict[str, Any]) -> BackwardMode:
        """This mode with the options set by keys of ``odeint``'s ``options`` (checked, named by those keys)."""
        if not given:
            return self
        owner = f"adjoint={self.name!r}"
        keys = self.option_keys()
        config = dict(self.config)
        for key, value in given.items():
            option = keys[key]
            config[option.name] = option.check(value, owner, key)
        mode = type(self).__new__(type(self))
        mode.config = config
        return mode

    @classmethod
    def accepts(cls, method: str) -> bool:
        """Whether the mode can run ``method`` (by its declared needs; the field is checked at solve time)."""
        if method not in METHODS:
            return not cls.partitioned_only
        return ((cls.methods is None or method in cls.methods)
                and (not cls.needs_inverse or METHODS[method].invertible))

    def check(self, problem: Problem, system: CountedFunction) -> None:
        """Raise ``ValueError``/``TypeError`` naming the argument when the mode cannot solve ``problem``."""
        if self.partitioned_only and not problem.partitioned:
            raise ValueError(
                f"method={problem.method!r} is a torchdiffeq method, but adjoint={self.name!r} steps the library's "
                f"own partitioned methods (e.g. 'imex'); use adjoint=False or adjoint=True with torchdiffeq methods"
            )
        if self.methods is not None and problem.method not in self.methods:
            raise ValueError(f"method={problem.method!r}: adjoint={self.name!r} implements only "
                             f"{', '.join(repr(m) for m in self.methods)}")
        if self.needs_inverse and not METHODS[problem.method].invertible:
            invertible = sorted(name for name, cls in METHODS.items() if cls.invertible)
            raise ValueError(f"method={problem.method!r} has no inverse, which adjoint={self.name!r} needs "
                             f"(invertible methods: {invertible}); use adjoint='checkpoint'")
        if self.needs_split and not is_split(system):
            raise TypeError(
                f"func: adjoint={self.name!r} undoes steps, which evaluates force(t, q) and needs alpha and gamma "
                f"(the solvers.SplitSystem protocol, which a bound GraphCONField implements); got "
                f"{type(problem.func).__name__}. Use adjoint='checkpoint' for a plain function."
            )
        if problem.partitioned:
            get_method(problem.method).check_system(system)

    def solve(self, problem: Problem, stats: SolveStats) -> tuple[Tensor, Tensor]:
        """Solve ``problem``; the shared bookkeeping around :meth:`run` (see the class docstring)."""
        system = CountedFunction(problem.func, stats)
        self.check(problem, system)
        stats.steps = fixed_steps(problem)
        solution = self.run(problem, system, stats)
        system.phase = "backward"
        return solution

    def run(self, problem: Problem, system: CountedFunction, stats: SolveStats) -> tuple[Tensor, Tensor]:
        """The solve proper: (qs, ps) over ``problem.t``, evaluating the field only through ``system``."""
        raise NotImplementedError
