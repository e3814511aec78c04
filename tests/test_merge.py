"""`graphite merge`: result JSONs of one configuration run on disjoint splits (parallel jobs) make the result of the
run over all of them; the oracle is that run itself, trained in one process."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from graphite.cli import merge_command
from graphite.cli.runner import run
from graphite.cli.table_command import node_rows

PARAMS = {'epochs': 4, 'hidden_channels': 8, 'eval_every': 1}


@pytest.fixture
def toy(make_graph):
    return make_graph(num_nodes=40, num_features=6, num_splits=3, seed=5)


def _result(toy, splits, path, seed=0, params=PARAMS):
    res = run('toy', 'gcn', None, dict(params), splits=splits, seed=seed, progress=False, data=toy)
    res.update(config_file='configs/default/gcn.yaml', selection=None,
               command=f'graphite run --dataset toy --model gcn --set lr=0.02 --splits {splits} --out {path}')
    path.write_text(json.dumps(res))
    return res


def test_merged_parts_are_the_run_over_all_their_splits(toy, tmp_path):
    whole = run('toy', 'gcn', None, dict(PARAMS), splits='0-2', progress=False, data=toy)
    a, b = tmp_path / 'a.json', tmp_path / 'b.json'
    _result(toy, '2', a)
    _result(toy, '0,1', b)
    out = tmp_path / 'sub' / 'all.json'
    assert merge_command.main(SimpleNamespace(parts=[str(a), str(b)], out=str(out))) == 0
    merged = json.loads(out.read_text())
    for key in ('splits', 'per_split', 'per_split_val', 'best_steps', 'steps', 'mean', 'std', 'val_mean'):
        assert merged[key] == pytest.approx(whole[key]), key
    assert merged['complete'] and [p['splits'] for p in merged['parts']] == [[2], [0, 1]]
    assert merged['command'].startswith('graphite merge ') and merged['config'] == whole['config']
    # the leaderboard labels it by its parts' `graphite run` overrides
    assert node_rows([{**merged, '_path': str(out)}])[0]['model'] == 'gcn (lr=0.02)'


def test_parts_of_different_runs_are_refused(toy, tmp_path):
    a, b, c, d = (tmp_path / f'{n}.json' for n in 'abcd')
    _result(toy, '0', a)
    _result(toy, '0,1', b)
    _result(toy, '1', c, seed=7)
    _result(toy, '2', d, params={**PARAMS, 'epochs': 5})
    for parts, message in [([a, b], 'split 0 is in both'), ([a, c], 'base seed'), ([a, d], "'config'"),
                           ([a], 'at least two')]:
        with pytest.raises(ValueError, match=message):
            merge_command.main(SimpleNamespace(parts=[str(p) for p in parts], out=str(tmp_path / 'm.json')))
    with pytest.raises(ValueError, match='one of the parts'):
        merge_command.main(SimpleNamespace(parts=[str(a), str(c)], out=str(a)))
    (tmp_path / 'bad.json').write_text('{"dataset": "toy"}')
    with pytest.raises(ValueError, match='missing key'):
        merge_command.main(SimpleNamespace(parts=[str(a), str(tmp_path / 'bad.json')], out=str(tmp_path / 'm.json')))
    with pytest.raises(FileNotFoundError):
        merge_command.main(SimpleNamespace(parts=[str(a), str(tmp_path / 'none.json')], out=str(tmp_path / 'm.json')))
    assert not (tmp_path / 'm.json').exists()


def test_command_line(toy, tmp_path, capsys):
    from graphite.cli import main as cli
    a, b = tmp_path / 'a.json', tmp_path / 'b.json'
    _result(toy, '0', a)
    _result(toy, '1,2', b)
    assert cli.main(['merge', str(a), str(b), '--out', str(tmp_path / 'm.json')]) == 0
    assert 'merged 2 parts, splits [0, 1, 2]' in capsys.readouterr().err
    assert cli.main(['merge', str(a), '--out', str(tmp_path / 'n.json')]) == 1
    assert capsys.readouterr().err.strip() == 'graphite: error: give at least two result files to merge'


def test_a_stopped_run_and_the_run_of_its_remaining_splits_merge_complete(toy, tmp_path):
    whole = run('toy', 'gcn', None, dict(PARAMS), splits='0-2', progress=False, data=toy)
    firsts = []  # what `graphite run --splits 0-2` had written when it was stopped after split 0
    run('toy', 'gcn', None, dict(PARAMS), splits='0-2', progress=False, data=toy, on_split=firsts.append)
    stopped = firsts[0]
    assert not stopped['complete'] and stopped['requested_splits'] == [0, 1, 2] and stopped['splits'] == [0]
    a, b, c = tmp_path / 'a.json', tmp_path / 'b.json', tmp_path / 'c.json'
    common = dict(config_file='configs/default/gcn.yaml', selection=None)
    a.write_text(json.dumps({**stopped, **common, 'command': 'graphite run --splits 0-2 --out a.json'}))
    _result(toy, '1,2', b)
    _result(toy, '1', c)
    out = tmp_path / 'all.json'
    merge_command.main(SimpleNamespace(parts=[str(a), str(b)], out=str(out)))
    merged = json.loads(out.read_text())
    assert merged['complete'] and merged['requested_splits'] == [0, 1, 2]
    assert merged['per_split'] == pytest.approx(whole['per_split'])
    assert [p['complete'] for p in merged['parts']] == [False, True]
    # split 2, which the stopped run was asked for, is missing: not complete
    merge_command.main(SimpleNamespace(parts=[str(a), str(c)], out=str(out)))
    assert not json.loads(out.read_text())['complete']
    # a result written before `requested_splits` existed: its command's --splits says what it was asked for
    legacy = {k: v for k, v in json.loads(a.read_text()).items() if k != 'requested_splits'}
    for command, complete in [('graphite run --splits 0-2 --out a.json', True),
                              ('graphite run --splits=0,1,2,3 --out a.json', False),
                              ('graphite run --out a.json', False)]:
        a.write_text(json.dumps({**legacy, 'command': command}))
        merge_command.main(SimpleNamespace(parts=[str(a), str(b)], out=str(out)))
        assert json.loads(out.read_text())['complete'] is complete, command
