"""Heterophily-aware link prediction (Zhu, Li, Yang, Zhu, Cui, Koutra; NeurIPS 2024, arXiv 2409.17475).

Modules (one concept each; import what you need, nothing heavy is imported here):

* :mod:`linkpred.encoders` -- GCN, GraphSAGE, GAT/GATv2, GIN, GPRGNN and no-GNN encoders with a ``separate_ego``
  switch (mixed vs separated ego/neighbour embeddings, :class:`graphite.nn.EgoSeparation`), GRAPHITE-transformed
  graphs supported;
* :mod:`linkpred.propagation` -- the encoders' aggregation structure on :mod:`graphite.ops` and its opt-in
  ``cached=`` (PyG semantics; never copied, pickled or saved);
* :mod:`linkpred.decoders` -- dot product, DistMult, MLP on the Hadamard product, MLP on the concatenation;
* :mod:`linkpred.model` -- encoder + decoder and model names ``<encoder>-<decoder>[-sep]``;
* :mod:`linkpred.heuristics` -- common neighbours, Adamic-Adar, resource allocation on queried pairs (sparse);
* :mod:`linkpred.similarity` -- feature-similarity profile, homophilic/heterophilic/gated threshold test, plot;
* :mod:`linkpred.synthetic` -- seeded generator with a similarity knob ``S`` in ``[-1, 1]``;
* :mod:`linkpred.evaluation` -- AUC, Hits@K (OGB), MRR (:mod:`graphite.metrics`) against sampled negatives, and
  warnings for metrics that cannot discriminate;
* :mod:`linkpred.protocols` -- evaluation protocols ``random``, ``heart-existing`` and ``heart`` (HeaRT, Li et al.
  NeurIPS 2023): fixed cached split with checksum, hard negatives;
* :mod:`linkpred.sampling` -- pure-PyTorch neighbour sampler for PyG's ``LinkNeighborLoader``;
* :mod:`linkpred.splits` -- the edge split of each protocol (:class:`~linkpred.splits.LinkSplit`);
* :mod:`linkpred.training` -- full-batch / mini-batch training, test at the best validation epoch.
"""
__all__ = ['encoders', 'decoders', 'model', 'propagation', 'heuristics', 'similarity', 'synthetic', 'evaluation',
           'sampling', 'splits', 'training', 'protocols']
