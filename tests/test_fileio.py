import json
import os
import stat

import pytest

from graphite.cli.results_io import write_json_atomic
from graphite.fileio import atomic_write


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_write_gives_the_usual_permissions(tmp_path, umask022):
    # mkstemp creates 0600 files: a result file written through it was unreadable by the group (found on
    # experiments/results/linkpred/heart/*.json); open(path, 'w') would give 0644 under umask 022
    reference = tmp_path / 'plain.txt'
    reference.write_text('x')
    path = atomic_write(tmp_path / 'a.txt', lambda f: f.write(b'hello'))
    assert path.read_bytes() == b'hello'
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode) == 0o644
    write_json_atomic(str(tmp_path / 'r.json'), {'a': 1})
    assert json.loads((tmp_path / 'r.json').read_text()) == {'a': 1}
    assert stat.S_IMODE((tmp_path / 'r.json').stat().st_mode) == 0o644


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / 'a.txt'
    path.write_bytes(b'old')

    def fail(f):
        f.write(b'partial')
        raise RuntimeError('disk full')

    with pytest.raises(RuntimeError, match='disk full'):
        atomic_write(path, fail)
    assert path.read_bytes() == b'old' and os.listdir(tmp_path) == ['a.txt']


def test_recorded_option_reads_a_flag_as_argparse_was_given_it():
    from graphite.cli.results_io import recorded_option
    cmd = "graphite run --set lr=0.02 --splits=0-4 --set 'norm=batch' --out x.json --set"
    assert recorded_option(cmd, '--set') == ['lr=0.02', 'norm=batch']   # the trailing --set has no value
    assert recorded_option(cmd, '--splits') == ['0-4'] and recorded_option(cmd, '--seed') == []
    assert recorded_option("graphite run --set 'lr=0.02", '--set') == []  # unbalanced quote: not a shell line
    assert recorded_option(None, '--set') == []
