"""The outcome of a search: a text summary of the best trial, plots, and the best configuration as a config YAML.

:func:`export_best` writes a config that ``graphite run --config best.yaml`` runs unchanged; plots are the
optimisation history and the parameter importances (PNG with matplotlib, HTML with plotly when installed).
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any, Dict, Mapping

import optuna
import yaml
from optuna.trial import TrialState

from graphite.cli.param_names import apply_values
from graphite.cli.tuning.workers import best_trial_or_none
from graphite.fileio import atomic_write

__all__ = ['best_config', 'export_best', 'summarize', 'write_plots']


def summarize(study: optuna.Study) -> str:
    """A human-readable summary: trial counts by state and the best trial (params, validation, test, seed)."""
    trials = study.get_trials(deepcopy=False)
    counts = {s.name: sum(t.state == s for t in trials) for s in TrialState}
    lines = [f'study {study.study_name}: {len(trials)} trials (' +
             ', '.join(f'{n.lower()} {c}' for n, c in counts.items() if c) + ')']
    best = best_trial_or_none(study)
    if best is None:
        lines.append('no complete trial yet')
        return '\n'.join(lines)
    ua = best.user_attrs
    metric = ua.get('metric', 'metric')
    test = f', test {metric} {ua["test_mean"]:.4f}' + (f' +- {ua["test_std"]:.4f}' if 'test_std' in ua else '') \
        if 'test_mean' in ua else ''
    lines.append(f'best trial #{best.number}: validation {metric} {best.value:.4f}{test}, seed {ua.get("seed")}, '
                 f'{ua.get("seconds", float("nan")):.1f} s')
    width = max(len(k) for k in best.params) if best.params else 0
    for k, v in best.params.items():
        lines.append(f'  {k:<{width}} = {v!r}')
    return '\n'.join(lines)


def write_plots(study: optuna.Study, out_dir: Path) -> Dict[str, Path]:
    """Save the optimisation history and the parameter importances of ``study`` into ``out_dir``.

    PNG files via :mod:`optuna.visualization.matplotlib`; interactive HTML via :mod:`optuna.visualization` when
    plotly is installed. Importances (fANOVA) need at least two complete trials and are skipped otherwise.

    Returns:
        name -> path of every file written.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from optuna import visualization as vis
    from optuna.visualization import matplotlib as vis_mpl

    out_dir = Path(out_dir)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    plots = [('optimization_history', vis_mpl.plot_optimization_history, vis.plot_optimization_history, 1)]
    if len({tuple(sorted(t.params.items())) for t in complete}) >= 2 and study.best_trial.params:
        plots.append(('param_importances', vis_mpl.plot_param_importances, vis.plot_param_importances, 2))
    written: Dict[str, Path] = {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
        for name, mpl_fn, plotly_fn, need in plots:
            if len(complete) < need:
                continue
            ax = mpl_fn(study)
            fig = (ax.flat[0] if hasattr(ax, 'flat') else ax).figure
            fig.set_size_inches(8, 5)
            fig.tight_layout()
            png = out_dir / f'{name}.png'
            out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(png, lambda f: fig.savefig(f, format='png', dpi=110))
            plt.close(fig)
            written[f'{name}.png'] = png
            if vis.is_available():
                html = out_dir / f'{name}.html'
                figure = plotly_fn(study)
                atomic_write(html, lambda f: f.write(figure.to_html(include_plotlyjs='cdn').encode()))
                written[f'{name}.html'] = html
    return written


def best_config(study: optuna.Study, config: Mapping[str, Any]) -> Dict[str, Any]:
    """``config`` with ``params`` set to the best trial's values (the ``search`` section is kept)."""
    best = study.best_trial
    out = {k: copy.deepcopy(v) for k, v in config.items() if k != 'path'}  # `path`: where load_config found it
    unknown = {k for k in best.params if k.partition('.')[0] not in out.get('params', {})}  # head.key: head's
    if unknown:
        raise KeyError(f'best trial #{best.number} has parameters {sorted(unknown)} that are not in the config params')
    # stepped floats come back as low + k * step (0.6000000000000001): print them at 12 significant digits
    tuned = {k: float(f'{v:.12g}') if getattr(best.distributions[k], 'step', None) and isinstance(v, float) else v
             for k, v in best.params.items()}
    for name, entry in (out.get('search') or {}).items():  # `same_as` ties: not sampled, so not in best.params
        if isinstance(entry, Mapping) and entry.get('same_as') in tuned:
            tuned[name] = tuned[entry['same_as']]
    out['params'] = apply_values(out['params'], tuned)
    ua = best.user_attrs
    note = (f'tuned by graphite tune: study {study.study_name}, best of {len(study.trials)} trials (#{best.number}, '
            f'validation {ua.get("metric", "metric")} {best.value:.4f}, seed {ua.get("seed")}')
    if 'test_mean' in ua:
        note += f', test {ua["test_mean"]:.4f}'
    note += ')'
    out['description'] = f'{out["description"].rstrip()} | {note}' if out.get('description') else note
    if (study.user_attrs.get('identity') or {}).get('task', 'node') == 'node':  # `graphite run` configs only
        out['selection'] = selection_record(study)
    return out


def trial_cpu_seconds(trial: optuna.trial.FrozenTrial) -> float:
    """What a trial cost: its wall-clock time from start to finish (complete, pruned or failed alike) x its torch
    threads; the recorded training ``seconds`` for a trial without both timestamps (still running)."""
    threads = int(trial.user_attrs.get('threads', 1))
    if trial.datetime_start is not None and trial.datetime_complete is not None:
        return (trial.datetime_complete - trial.datetime_start).total_seconds() * threads
    return float(trial.user_attrs.get('seconds', 0.0)) * threads


def selection_record(study: optuna.Study) -> Dict[str, Any]:
    """How the exported config was chosen: study, trials, best trial, validation objective, search CPU-hours (every
    trial's wall-clock time x threads, pruned and failed trials included: :func:`trial_cpu_seconds`); ``graphite
    run`` copies it into the result JSON."""
    trials = study.get_trials(deepcopy=False)
    cpu_seconds = sum(trial_cpu_seconds(t) for t in trials)
    best = study.best_trial
    splits = (study.user_attrs.get('identity') or {}).get('splits')
    return {
        'method': 'graphite tune (Optuna TPE, median pruner)',
        'objective': f'mean validation {best.user_attrs.get("metric", "metric")} over splits '
                     f'{splits if splits is not None else "all"}; test masks hidden from the search',
        'study': study.study_name,
        'trials': len(trials),
        'complete_trials': sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials),
        'best_trial': best.number,
        'best_validation': float(best.value),
        'cpu_hours': round(cpu_seconds / 3600, 3),
    }


def export_best(study: optuna.Study, config: Mapping[str, Any], path: Path) -> Path:
    """Write :func:`best_config` as YAML to ``path`` atomically; ``graphite run --config path`` runs it as is."""
    path = Path(path)
    data = best_config(study, config)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)

    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda f: f.write(text.encode()))
