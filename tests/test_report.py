"""``graphite report`` through the CLI entry point: printed sizes and homophily numbers on Actor (the GRAPHITE
paper's homophily table), JSON output, option parsing and clear errors."""
from __future__ import annotations

import json
import re

import pytest

from graphite.cli import main as cli
from graphite.cli.report_command import parse_transform_options


def test_parse_transform_options():
    assert parse_transform_options(['min_count=2', 'binarize=0.5', 'graph_node_features=normalize',
                                    'max-count=null', 'to_hetero=false']) == {
        'min_count': 2, 'binarize': 0.5, 'graph_node_features': 'normalize', 'max_count': None, 'to_hetero': False}
    with pytest.raises(ValueError, match=r"unknown transform option 'min'.*min_count"):
        parse_transform_options(['min=2'])
    with pytest.raises(ValueError, match='KEY=VALUE'):
        parse_transform_options(['min_count'])


def test_bad_option_exit_code(capsys):
    assert cli.main(['report', '--dataset', 'actor', '--transform-options', 'bogus=1']) == 2
    assert "unknown transform option 'bogus'" in capsys.readouterr().err
    assert cli.main(['report', '--dataset', 'actor', '--transform-options', 'min_count=0']) == 2
    assert 'min_count' in capsys.readouterr().err


def _row(text: str, label: str):
    m = re.search(r'^\| ' + re.escape(label) + r' \|(.*)$', text, re.M)
    assert m, f'no row {label!r} in:\n{text}'
    return [c.strip() for c in m.group(1).strip(' |').split('|')]


@pytest.mark.data
def test_report_actor_markdown(data_root, capsys):
    assert cli.main(['report', '--dataset', 'actor']) == 0
    out = capsys.readouterr().out
    assert _row(out, 'nodes') == ['7,600', '8,532']
    assert _row(out, 'edges (edge_index columns)') == ['30,019', f'{30019 + 2 * 40977:,}']
    assert _row(out, 'feature nodes') == ['0', '932']
    assert _row(out, 'feature edges (undirected pairs)') == ['0', '40,977']
    # the GRAPHITE paper's homophily table (Qiu et al., arXiv 2509.12530; undirected):
    # original / all-label majority / train-label majority
    assert _row(out, 'edge')[0:2] == ['0.2181', '0.3301'] and _row(out, 'edge')[3] == '0.3212'
    assert _row(out, 'adjusted')[0:2] == ['0.0045', '0.0695'] and _row(out, 'adjusted')[3] == '0.0417'
    li = _row(out, 'label_informativeness')
    assert li[0:2] == ['0.0002', '0.0079'] and li[3] == '0.0033'
    assert _row(out, 'edge')[2] == f'{100 * (0.3301 - 0.2181) / 0.2181:+.0f}%'   # relative change column
    feat = _row(out, 'feature')
    gain = float(feat[2].rstrip('%'))
    assert gain == pytest.approx(179, abs=1)                    # paper: Actor feature homophily +179%


@pytest.mark.data
def test_report_json_and_output_file(data_root, capsys, tmp_path):
    path = tmp_path / 'r.json'
    assert cli.main(['report', '--dataset', 'minesweeper', '--format', 'json', '--output', str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(path.read_text()) == printed
    rep = printed['reports'][0]
    assert rep['dataset'] == 'minesweeper' and printed['transform'].startswith('Graphite(')
    assert rep['sizes']['transformed'] == {'nodes': 10007, 'edges': 78804 + 20000, 'feature_nodes': 7,
                                           'feature_edges': 10000}
    assert rep['homophily']['edge']['original'] == pytest.approx(0.6828, abs=1e-4)   # yandex: 0.68
    assert rep['homophily']['feature']['all_labels_change'] == pytest.approx(0.41, abs=0.01)  # paper: +41%
