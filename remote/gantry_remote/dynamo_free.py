"""Keep torch.optim from importing TorchDynamo in a trainer that compiles nothing.

torch.optim guards its methods against `torch.compile` in two ways, both of which import
`torch._dynamo` when first called: `Optimizer.add_param_group`, `state_dict`, `zero_grad`, ... are
wrapped in `torch._disable_dynamo`, and every optimizer's `step` in `_use_grad_for_differentiable`
(which turns grad mode off and marks graph breaks). That import is the largest piece of a trainer's
start-up: 3.7-6.0 s of the 11-16 s from process start to the first metrics line on the H200
(train.log's "agent and checkpoint" phase), as long as importing torch itself, for a trainer that
never compiles.

`enable()` makes both direct for such a trainer:
- `_disable_dynamo` caches the disabled function on the wrapped one (`fn.__dynamo_disable`) and
  calls the cache when present: seeding it with the function itself is what disabling Dynamo means
  when Dynamo never runs;
- `step(optimizer)` runs the optimizer's own step under `torch.no_grad()`, which is what its
  wrapper does outside a compiled region (grad mode off for a non-differentiable optimizer).
A torch whose wrappers look different is left alone (`enable()` returns False): the start-up is
then slower, never different. Only for trainers without `--compile` (ppo.py decides).
"""
import inspect
import types
from typing import Iterable

import torch

_active = False


def _wrapper_code() -> types.CodeType:
    """The code object of torch's lazy disable wrapper (wrapping does not import Dynamo)."""
    return torch._disable_dynamo(lambda: None).__code__


def _disabled_functions(namespaces: Iterable[dict]) -> Iterable[types.FunctionType]:
    """Functions that torch.optim calls through torch._disable_dynamo: the wrapped methods, and the
    functional optimizers (`adam`, ...) whose fallback closure wraps the same function at call time."""
    code = _wrapper_code()
    for namespace in namespaces:
        for value in namespace.values():
            inner = getattr(value, "__wrapped__", None)
            if not isinstance(inner, types.FunctionType):
                continue
            if getattr(value, "__code__", None) is code or "state_steps" in inspect.signature(inner).parameters:
                yield inner


def _wrapper_chain(fn) -> Iterable:
    while fn is not None:
        yield fn
        fn = getattr(fn, "__wrapped__", None)


def enable() -> bool:
    """Make torch.optim's Adam run without importing Dynamo; False where this torch is not as expected."""
    global _active
    import torch.optim.adam as adam
    import torch.optim.optimizer as optimizer

    if not any(getattr(fn, "__code__", None) is not None and fn.__code__.co_name == "_use_grad" for fn in _wrapper_chain(adam.Adam.step)):
        return False
    for fn in _disabled_functions([vars(optimizer.Optimizer), vars(adam.Adam), vars(adam)]):
        if getattr(fn, "__dynamo_disable", None) is None:
            setattr(fn, "__dynamo_disable", fn)
    _active = True
    return True


def step(opt: torch.optim.Optimizer) -> None:
    """opt.step(), without the Dynamo import when enable() succeeded."""
    if not _active:
        opt.step()
        return
    with torch.no_grad():
        inspect.unwrap(type(opt).step)(opt)
