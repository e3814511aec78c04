r"""Homophily of node-labelled graphs, before and after GRAPHITE.

Four concepts, one module each (every public name is importable from :mod:`graphite.homophily`):

* :mod:`graphite.homophily.measures`: edge, node, class-insensitive and adjusted homophily and label
  informativeness of any labelled graph;
* :mod:`graphite.homophily.feature_similarity`: feature homophily (cosine similarity of linked pairs, optionally
  adjusted by random pairs) of any graph;
* :mod:`graphite.homophily.feature_labels`: :func:`feature_node_labels`, majority labels for the feature nodes of a
  transformed graph (they carry none);
* :mod:`graphite.homophily.report`: :func:`homophily_report`, the before/after table of ``graphite report``.

References (the measures):
    Zhu et al., "Beyond Homophily in Graph Neural Networks", NeurIPS 2020 (edge homophily).
    Pei et al., "Geom-GCN: Geometric Graph Convolutional Networks", ICLR 2020 (node homophily).
    Lim et al., "Large Scale Learning on Non-Homophilous Graphs", NeurIPS 2021 (class-insensitive homophily).
    Platonov et al., "Characterizing Graph Datasets for Node Classification: Homophily-Heterophily Dichotomy and
    Beyond", NeurIPS 2023 (adjusted homophily, label informativeness).
    Qiu et al., "Graph Homophily Booster: Rethinking the Role of Discrete Features on Heterophilic Graphs",
    arXiv 2509.12530 (GRAPHITE, feature-homophily gains).
"""
from graphite.homophily.feature_labels import feature_node_labels
from graphite.homophily.feature_similarity import feature_homophily, random_pair_cosine
from graphite.homophily.measures import (LABEL_MEASURES, adjusted_homophily, class_insensitive_homophily,
                                         edge_homophily, label_homophily, label_informativeness, node_homophily)
from graphite.homophily.report import HomophilyReport, homophily_report

__all__ = ['edge_homophily', 'node_homophily', 'class_insensitive_homophily', 'adjusted_homophily',
           'label_informativeness', 'feature_homophily', 'label_homophily', 'random_pair_cosine',
           'feature_node_labels', 'homophily_report', 'HomophilyReport', 'LABEL_MEASURES']
