"""Data-parallel mini-batch training with 2 CPU processes (gloo): same losses as one process with the same global
batch, and a killed rank stops the other with a clear error instead of a hang."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import torch

from graphite.cli import distributed as D

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dist_worker.py')
ROOT = os.path.dirname(os.path.dirname(WORKER))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _launch(out, batch_size, *extra, world=2, timeout=20):
    port = _free_port()
    procs = []
    for rank in range(world):
        env = {**os.environ, 'RANK': str(rank), 'LOCAL_RANK': str(rank), 'WORLD_SIZE': str(world),
               'MASTER_ADDR': '127.0.0.1', 'MASTER_PORT': str(port), 'OMP_NUM_THREADS': '1',
               'GRAPHITE_DIST_TIMEOUT': str(timeout),
               'PYTHONPATH': os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')])}
        procs.append(subprocess.Popen([sys.executable, WORKER, str(out), str(batch_size), *map(str, extra)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


def _wait(procs, limit=120):
    results = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail('a rank hung')
        results.append((p.returncode, stderr))
    return results


def test_two_ranks_match_one_process_with_the_same_global_batch(tmp_path):
    """2 ranks x 16 seeds vs 1 process x 32 seeds, GraphSAGE without dropout on exact (unsampled) 2-hop
    neighbourhoods: each global batch is the same seed set, DDP averages the two half-batch gradients, so the 20
    losses agree up to float32 summation order (tolerance: 1e-5 absolute + 1e-4 relative)."""
    sys.path.insert(0, os.path.dirname(WORKER))
    from dist_worker import STEPS, train
    single = train(32, D.SINGLE)
    assert len(single) == STEPS
    out = tmp_path / 'losses.json'
    results = _wait(_launch(out, 16))
    assert all(rc == 0 for rc, _ in results), results
    ranks = json.loads(out.read_text())['losses']
    assert len(ranks) == STEPS
    assert torch.allclose(torch.tensor(ranks), torch.tensor(single), rtol=1e-4, atol=1e-5), (ranks, single)


def test_killed_rank_stops_the_others_with_a_clear_error(tmp_path):
    start = time.time()
    results = _wait(_launch(tmp_path / 'x.json', 16, 5, timeout=20), limit=90)
    elapsed = time.time() - start
    (rc0, err0), (rc1, _) = results
    assert rc1 == 9  # the killed rank
    assert rc0 == 3, err0
    assert 'rank 0/2' in err0 and 'another rank exited or did not answer' in err0, err0
    assert elapsed < 90


def test_shards_cover_each_global_batch_equally():
    ctx = [D.DistContext(rank=r, world_size=3, enabled=True) for r in range(3)]
    index = torch.arange(100, 110)
    per_rank = []
    for c in ctx:
        from graphite.cli.minibatch import epoch_batches
        per_rank.append(epoch_batches(index, 2, torch.Generator().manual_seed(0), c))
    assert len({len(b) for b in per_rank}) == 1                          # same number of steps on every rank
    for step in range(len(per_rank[0])):
        sizes = {b[step].numel() for b in per_rank}
        assert len(sizes) == 1                                           # same batch size on every rank
    seen = torch.cat([b for bs in per_rank for b in bs])
    assert set(seen.tolist()) == set(index.tolist()) and seen.numel() == 12  # padded from 10 to 12


def test_init_without_torchrun_environment_is_a_clear_error(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValueError, match='torchrun'):
        D.init(torch.device('cpu'))


def test_end_process_returns_the_code_without_a_process_group():
    """Outside a joined process group the code comes back (the caller exits normally); in a process that joined one
    the process ends at once (checked by the 2-rank tests: exit codes 0 and 3 come through)."""
    import torch.distributed as dist
    assert not (dist.is_available() and dist.is_initialized()) and not D._joined
    assert D.end_process(3) == 3
