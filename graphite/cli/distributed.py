"""Data-parallel training over ``torchrun`` processes: process group, seed sharding, DDP, peer-failure errors.

``torchrun --standalone --nproc-per-node 2 -m graphite run ... --batch-size 512 --distributed`` starts one process
per rank with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set; :func:`init` joins
the process group from them (``gloo`` on CPU, ``nccl`` on CUDA, each rank on ``cuda:LOCAL_RANK``). Every rank
draws the same permutation of the training nodes per epoch, cuts it into *global* batches of
``batch_size * world_size`` seeds and takes its own strided share (:func:`shard`), so a run on ``W`` ranks with
``--batch-size B`` follows the same seed order as one process with ``--batch-size W*B``; DDP averages the
gradients, so with exact neighbourhoods (no sampling, no dropout) both take the same optimiser steps.

Collectives time out after ``GRAPHITE_DIST_TIMEOUT`` seconds (default 600): a rank that dies or stops answering
makes the others raise :class:`DistributedError` (one clear message naming the rank) instead of hanging forever.
"""
from __future__ import annotations

import contextlib
import datetime
import os
import sys
from dataclasses import dataclass
import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ['DistContext', 'DistributedError', 'init', 'shutdown', 'end_process', 'shard', 'collective', 'wrap',
           'unwrap', 'main_first', 'all_mean', 'broadcast', 'pad_to_multiple', 'rank_device', 'timeout_s', 'SINGLE']


class DistributedError(RuntimeError):
    """A collective failed: another rank exited, crashed or did not answer within the timeout."""


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size`` (``1``/``0`` without distributed training)."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    enabled: bool = False

    @property
    def is_main(self) -> bool:
        """Whether this rank writes results and shows progress (rank 0)."""
        return self.rank == 0


#: the context of a plain single-process run
SINGLE = DistContext()

#: whether this process joined a process group through :func:`init` (it stays True after :func:`shutdown`)
_joined = False


def timeout_s() -> float:
    """Collective timeout in seconds: ``GRAPHITE_DIST_TIMEOUT`` (default 600)."""
    raw = os.environ.get('GRAPHITE_DIST_TIMEOUT', '600')
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f'GRAPHITE_DIST_TIMEOUT must be a number of seconds, got {raw!r}') from None
    if value <= 0:
        raise ValueError(f'GRAPHITE_DIST_TIMEOUT must be positive, got {raw!r}')
    return value


def init(device: torch.device) -> DistContext:
    """Join the process group described by torchrun's environment (``gloo`` on CPU, ``nccl`` on CUDA).

    Raises:
        ValueError: the torchrun variables are missing (the command was not started by ``torchrun``).
    """
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise ValueError(f'--distributed needs the environment torchrun sets ({", ".join(missing)} missing); start '
                         'with e.g. `torchrun --standalone --nproc-per-node 2 -m graphite run ... --distributed`')
    rank, world = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
    local = int(os.environ.get('LOCAL_RANK', rank))
    if not dist.is_initialized():
        backend = 'nccl' if device.type == 'cuda' else 'gloo'
        kwargs = {}
        if device.type == 'cuda':
            torch.cuda.set_device(device)  # nccl: one GPU per rank
            kwargs['device_id'] = device
        dist.init_process_group(backend, rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=timeout_s()), **kwargs)
    global _joined
    _joined = True
    return DistContext(rank=rank, world_size=world, local_rank=local, enabled=True)


def rank_device(device: torch.device) -> torch.device:
    """``cuda:LOCAL_RANK`` for a CUDA ``device`` under torchrun (one GPU per process), else ``device``."""
    if device.type == 'cuda' and 'LOCAL_RANK' in os.environ:
        return torch.device('cuda', int(os.environ['LOCAL_RANK']))
    return device


def shutdown(ctx: DistContext) -> None:
    """Leave the process group (no-op without distributed training). The ranks first meet at a barrier: a rank that
    tears gloo down while its peer is still talking to it can abort in gloo's threads (``terminate called without
    an active exception``); a peer that is already gone only skips the barrier. The abort can still come at
    interpreter exit: a script of its own that trains with ``run(..., distributed=True)`` ends best with
    :func:`end_process` once its results are written, as ``graphite run --distributed`` does."""
    if ctx.enabled and dist.is_initialized():
        try:
            dist.barrier()
        except RuntimeError:
            pass
        dist.destroy_process_group()


def end_process(code: int) -> int:
    """Return ``code``, or, in a process that joined a process group (still joined or already left), end the process
    at once with it.

    A rank's interpreter teardown can abort in gloo's C++ threads (SIGABRT, ``terminate called without an active
    exception``), which replaces the exit code the user should see: always after a failed collective (the group
    cannot be left cleanly), and now and then after a successful run that left the group with :func:`shutdown`
    (twice in fresh-clone CI runs, once on each rank; never in 100 local runs). So a distributed command ends here,
    after its results are written, with stdout and stderr flushed and without running destructors. Plain
    (non-distributed) processes get ``code`` back and exit normally.
    """
    if _joined or (dist.is_available() and dist.is_initialized()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def shard(seeds: Tensor, ctx: DistContext) -> Tensor:
    """This rank's strided share ``seeds[rank::world_size]`` of one global batch."""
    return seeds[ctx.rank::ctx.world_size] if ctx.enabled else seeds


def pad_to_multiple(index: Tensor, multiple: int) -> Tensor:
    """``index`` extended by its own first entries to a multiple of ``multiple`` entries (as PyTorch's
    ``DistributedSampler``), so that every rank gets the same number of seeds and steps."""
    extra = (-index.numel()) % multiple
    if extra == 0:
        return index
    reps = index.repeat((extra + index.numel() - 1) // index.numel())
    return torch.cat([index, reps[:extra]])


@contextlib.contextmanager
def collective(ctx: DistContext, what: str):
    """Turn a failed collective inside the block into :class:`DistributedError` naming this rank and ``what``."""
    if not ctx.enabled:
        yield
        return
    try:
        yield
    except DistributedError:
        raise
    except RuntimeError as e:  # gloo/nccl errors (DistBackendError, DistNetworkError, timeouts) are RuntimeErrors
        raise DistributedError(
            f'rank {ctx.rank}/{ctx.world_size}: {what} failed: another rank exited or did not answer within '
            f'{timeout_s():.0f} s (GRAPHITE_DIST_TIMEOUT); stopping. Cause: {str(e).splitlines()[0] if str(e) else e!r}'
        ) from e


@contextlib.contextmanager
def main_first(ctx: DistContext):
    """Rank 0 runs the block first, the other ranks after it (e.g. a dataset download into a shared folder)."""
    if not ctx.enabled:
        yield
        return
    if not ctx.is_main:
        with collective(ctx, 'waiting for rank 0 to load the dataset'):
            dist.barrier()
    yield
    if ctx.is_main:
        with collective(ctx, 'waiting for rank 0 to load the dataset'):
            dist.barrier()


def wrap(model: torch.nn.Module, ctx: DistContext, device: torch.device) -> torch.nn.Module:
    """``model`` wrapped in :class:`~torch.nn.parallel.DistributedDataParallel` (the model itself without
    distributed training). Parameters start equal on every rank (DDP broadcasts rank 0's)."""
    if not ctx.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel
    ids = [device.index] if device.type == 'cuda' else None
    with collective(ctx, 'broadcasting the initial parameters'):
        return DistributedDataParallel(model, device_ids=ids)


def all_mean(value: Tensor, ctx: DistContext, what: str) -> Tensor:
    """The mean of ``value`` over ranks (``value`` itself without distributed training)."""
    if not ctx.enabled:
        return value
    value = value.clone()
    with collective(ctx, what):
        dist.all_reduce(value)
    return value / ctx.world_size


def broadcast(values: Tensor, ctx: DistContext, what: str, src: int = 0) -> Tensor:
    """Rank ``src``'s ``values`` on every rank (in place; ``values`` itself without distributed training)."""
    if ctx.enabled:
        with collective(ctx, what):
            dist.broadcast(values, src)
    return values


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a DDP wrapper (or ``model``)."""
    return getattr(model, 'module', model)
