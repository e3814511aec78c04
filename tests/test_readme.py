"""The README's Python examples run as written."""
import os
import re

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'README.md')


def _python_block(section: str) -> str:
    text = open(README).read()
    body = text.split(f'## {section}\n', 1)[1].split('\n## ', 1)[0]
    return re.search(r'```python\n(.*?)```', body, re.S).group(1)


def test_linkpred_example_runs_and_learns(capsys):
    scope = {'__name__': 'readme'}
    exec(compile(_python_block('Link prediction in Python'), 'README.md', 'exec'), scope)
    assert 0.6 < scope['test_auc'] <= 1.0 and 0.0 <= scope['test_hits'] <= 1.0
    assert 'test AUC' in capsys.readouterr().out
