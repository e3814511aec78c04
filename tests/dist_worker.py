"""One rank of the 2-process tests in test_distributed.py (started with torchrun's environment variables).

``python tests/dist_worker.py OUT_JSON BATCH_SIZE [KILL_AT_STEP]``: trains GraphSAGE on mini-batches of the seeded
toy graph for 20 optimiser steps and writes ``{"losses": [...]}`` (rank 0). With ``KILL_AT_STEP``, rank 1 exits
abruptly at that step; the surviving rank then prints the DistributedError and exits with 3.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

STEPS = 20


class Done(Exception):
    pass


def train(batch_size: int, ctx, kill_at: int = 0):
    import torch

    from conftest import random_graph
    from graphite.cli.minibatch import train_split_minibatch
    from graphite.cli.prepared_data import prepare
    from graphite.nn import get_model
    torch.set_num_threads(1)
    data = random_graph(num_nodes=300, num_features=16, num_edges=1500, num_splits=1, seed=3)
    data.train_mask[:] = False
    data.train_mask[:160] = True  # 5 global batches of 32 per epoch: no padded tail (which DDP would weigh differently)
    data.val_mask[:160] = data.test_mask[:160] = False
    prep = prepare(data, None)
    train = {'hidden_channels': 16, 'lr': 0.01, 'weight_decay': 5e-4, 'epochs': 1000, 'patience': 0,
             'eval_every': 10 ** 6, 'batch_size': batch_size, 'fanout': [-1, -1], 'feature_fanout': None}
    losses = []

    def on_step(step, loss):
        losses.append(loss)
        if kill_at and step == kill_at and ctx.rank == 1:
            os._exit(9)
        if step == STEPS:
            raise Done
    try:
        train_split_minibatch(prep, get_model('sage'), {'dropout': 0.0}, train, 0, 7, 'accuracy', None, 0, False,
                              '', device=torch.device('cpu'), ctx=ctx, on_step=on_step)
    except Done:
        pass
    return losses


def main():
    import torch

    from graphite.cli import distributed as D
    out, batch_size = sys.argv[1], int(sys.argv[2])
    kill_at = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    ctx = D.init(torch.device('cpu'))
    try:
        losses = train(batch_size, ctx, kill_at)
    except D.DistributedError as e:
        print(f'graphite: error: {e}', file=sys.stderr)
        sys.exit(D.end_process(3))
    if ctx.is_main:
        with open(out, 'w') as f:
            json.dump({'losses': losses}, f)
    D.shutdown(ctx)
    D.end_process(0)  # as `graphite run --distributed` ends


if __name__ == '__main__':
    main()
