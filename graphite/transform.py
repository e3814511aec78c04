"""The GRAPHITE graph transformation (feature nodes that raise homophily)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data, HeteroData
from torch_geometric.data.datapipes import functional_transform
from torch_geometric.transforms import BaseTransform

from graphite.discretize import discrete_entries
from graphite.feature_nodes import cat_rows, feature_means, row_normalize, select_columns
from graphite.layout import FEATURE_EDGE, FEATURE_NODE, GRAPH_EDGE, GRAPH_NODE
from graphite.validation import check_edge_index, check_features, is_sparse

__all__ = ['Graphite']

FEATURE_INITS = ('mean', 'zeros', 'index')
GRAPH_NODE_FEATURES = ('keep', 'zeros', 'normalize')


@functional_transform('graphite')
class Graphite(BaseTransform):
    r"""The GRAPHITE transformation from the `"Graph Homophily Booster: Rethinking the Role of Discrete Features on
    Heterophilic Graphs" <https://arxiv.org/abs/2509.12530>`_ paper (Qiu, Li, Li, Tong; ICLR 2026).

    Given a graph :math:`\mathcal{G} = (\mathcal{V}, \mathcal{E}, \mathbf{X})` with binary features
    :math:`\mathbf{X} \in \{0, 1\}^{|\mathcal{V}| \times F}`, it adds one *feature node* :math:`x_k` per feature
    column :math:`k` that occurs in at least one node, and one undirected *feature edge* per nonzero entry:

    .. math::
        \mathcal{V}^* = \mathcal{V} \cup \{x_k : \textstyle\sum_v X_{vk} > 0\}, \qquad
        \mathcal{E}^* = \mathcal{E} \cup \{(v, x_k) : X_{vk} = 1\}.

    Nodes sharing a feature become two hops apart through its feature node, which raises homophily with only
    :math:`|\mathcal{V}^*| = |\mathcal{V}| + F` nodes and
    :math:`|\mathcal{E}^*| = |\mathcal{E}| + \mathrm{nnz}(\mathbf{X})` edges (connecting all pairs sharing a
    feature instead would add :math:`O(|\mathcal{V}|^2)` edges). The cost is
    :math:`O(\mathrm{nnz}(\mathbf{X}) + |\mathcal{E}|)` memory (plus the ``[F_used, F]`` feature-node
    features) and time, besides one scan of a dense :math:`\mathbf{X}` and the ``feature_init='mean'`` features
    (:math:`O(\sum_v \mathrm{nnz}(\mathbf{X}_v)^2)` for binary features, from exact co-occurrence counts); no dense
    ``N x N`` matrix or node-node pair list is ever built, and a sparse :math:`\mathbf{X}` is never densified
    (``benchmarks/transform_scale.py``: 1M nodes, 300 binary columns, mean degree 10 in a few seconds).

    **Output convention** (homogeneous :class:`~torch_geometric.data.Data`, ``N`` graph nodes, ``E`` edges,
    ``M`` feature entries kept, ``F_used`` feature nodes):

    * nodes ``0..N-1`` are the original graph nodes, unchanged and in order; nodes ``N..N+F_used-1`` are the
      feature nodes, sorted by original column (then bucket);
    * ``edge_index`` ``[2, E + 2M]``: the original ``E`` edges first (unchanged), then the ``M`` node -> feature
      edges, then the same ``M`` edges reversed (feature -> node); every feature edge is present in both directions;
    * ``x`` ``[N + F_used, F]``: graph-node rows as chosen by ``graph_node_features``, then feature-node rows as
      chosen by ``feature_init``; dense input gives dense output, sparse input (COO/CSR) gives sparse COO/CSR output;
      integer and boolean features become float;
    * per node (``[N + F_used]``, long): ``node_type`` (:data:`~graphite.layout.GRAPH_NODE` = 0,
      :data:`~graphite.layout.FEATURE_NODE` = 1) and ``feature_column`` (the feature column a feature node stands
      for, ``-1`` on graph nodes); per edge (``[E + 2M]``, long): ``edge_type`` (:data:`~graphite.layout.GRAPH_EDGE`
      = 0, :data:`~graphite.layout.FEATURE_EDGE` = 1); ``num_nodes`` = ``N + F_used``. Counts are derived, not
      stored: :func:`graphite.layout.num_graph_nodes`, :func:`graphite.layout.graph_node_mask`;
    * with ``buckets=k``: ``feature_bucket`` long ``[N + F_used]`` (``-1`` on graph nodes; a feature node stands
      for ``(feature_column, feature_bucket)``) and the graph-level ``bucket_thresholds`` ``[1, F, k-1]`` (see
      :func:`graphite.discretize.bucketize_entries`; a :class:`~torch_geometric.data.Batch` stacks them
      ``[B, F, k-1]``);
    * the other node-level tensors (as PyG's :meth:`~torch_geometric.data.Data.is_node_attr` decides, extended
      along :meth:`~torch_geometric.data.Data.__cat_dim__`; 1-D masks and 2-D ``[N, S]`` split masks alike) get
      ``F_used`` more rows: ``y`` and other integer tensors ``-1`` (feature nodes carry no label), boolean tensors
      (``train_mask``, ...) ``False``, floating-point ``y`` ``NaN``; other floating-point node tensors need a value
      in ``fill`` (else :class:`ValueError`);
    * edge-level tensors (:meth:`~torch_geometric.data.Data.is_edge_attr`, e.g. ``edge_attr``, ``edge_weight``)
      get ``2M`` more rows: ``edge_weight`` ``1``, boolean ``False``, integer ``-1``, others need a value in
      ``fill``;
    * graph-level attributes are copied unchanged. The input object is never modified.

    Everything per node or per edge is a node or edge attribute, so ``data.subgraph(...)``,
    :class:`~torch_geometric.data.Batch`, PyG's loaders and :class:`graphite.sampling.NeighborSampler` slice it
    like ``x``; no attribute name contains ``index`` besides ``edge_index``, so collation offsets nothing else.

    **Composition order.** Graph-level transforms (``T.ToUndirected()``, ``T.AddSelfLoops()``, ...) and splits
    (``T.RandomNodeSplit()``) go *before* ``Graphite()``: ``T.Compose([T.ToUndirected(), T.RandomNodeSplit(),
    Graphite()])``. After it they corrupt the typed graph (``ToUndirected`` sums the two stored directions of each
    feature edge into ``edge_type = 2``, ``AddSelfLoops`` leaves ``edge_type`` shorter than ``edge_index``,
    ``RandomNodeSplit`` puts feature nodes into ``train_mask``); :func:`graphite.layout.check_transformed` (called
    by the runner; :class:`~graphite.nn.GraphiteNet` checks the typed graph on every call) reports each with one
    clear error. Feature-level transforms that change ``x`` only (``T.NormalizeFeatures()``) may go either side.

    With ``to_hetero=True`` a :class:`~torch_geometric.data.HeteroData` is returned instead, with node types
    ``'node'`` (original nodes and their attributes, not extended) and ``'feature'`` (``x``, ``feature_column``), and
    edge types ``('node', 'to', 'node')`` (original edges and edge attributes), ``('node', 'has', 'feature')`` and
    ``('feature', 'of', 'node')`` (local indices, reverse of each other).

    .. code-block:: python

        import torch_geometric.transforms as T
        from graphite import Graphite

        data = Graphite()(data)                                   # binary features
        data = Graphite(buckets=4, min_count=2)(data)             # continuous features, 4 quantile buckets
        dataset = Actor(root, pre_transform=T.Compose([T.ToUndirected(), Graphite()]))   # graph transforms first

    Args:
        feature_init (str, optional): features of the feature nodes. :obj:`'mean'`: the mean of the (original,
            not discretised) features of the graph nodes having that feature, as in the paper; :obj:`'zeros'`:
            zero rows; :obj:`'index'`: zero rows, meant for a learnable embedding looked up by ``feature_column``,
            e.g. ``f = data.feature_column >= 0; h[f] = torch.nn.Embedding(F, d)(data.feature_column[f])``.
            (default: :obj:`'mean'`)
        graph_node_features (str, optional): graph-node rows of ``x`` *after* the feature-node features were
            computed. :obj:`'keep'`: unchanged; :obj:`'zeros'`: zero rows (Squirrel-F in the paper);
            :obj:`'normalize'`: each row divided by its sum (all-zero rows stay zero), like
            :class:`~torch_geometric.transforms.NormalizeFeatures` (Cora/CiteSeer in the paper).
            (default: :obj:`'keep'`)
        min_count (int, optional): drop feature columns that fewer than ``min_count`` nodes have. (default: :obj:`1`)
        max_count (int, optional): drop feature columns that more than ``max_count`` nodes have (ubiquitous
            features connect everything and carry no signal). (default: :obj:`None`, no limit)
        binarize (float, optional): for continuous features: node ``v`` has feature ``k`` iff
            :math:`X_{vk} > \text{binarize}`. (default: :obj:`None`)
        buckets (int, optional): for continuous features: split each column into ``buckets`` empirical-quantile
            buckets; each non-empty (column, bucket) pair becomes a feature node. Dense input buckets every entry
            (zeros included), sparse input only its stored entries. (default: :obj:`None`)
        to_hetero (bool, optional): return a :class:`~torch_geometric.data.HeteroData`. (default: :obj:`False`)
        fill (dict, optional): value used to extend a node- or edge-level attribute (by key) that has no default
            rule, e.g. ``{'pos': 0.0}``. (default: :obj:`None`)

    Raises:
        ValueError: non-binary features without ``binarize``/``buckets`` (the message names the options), NaN/inf
            features, a graph without nodes or features, all-zero features (nothing to add), out-of-range or
            malformed ``edge_index``, shape mismatches, an input that already has ``node_type`` (transformed twice),
            a node/edge attribute that cannot be extended.
        TypeError: input that is not a :class:`~torch_geometric.data.Data`, non-tensor features.
    """
    def __init__(self, feature_init: str = 'mean', graph_node_features: str = 'keep', min_count: int = 1,
                 max_count: Optional[int] = None, binarize: Optional[float] = None, buckets: Optional[int] = None,
                 to_hetero: bool = False, fill: Optional[Dict[str, Any]] = None):
        if feature_init not in FEATURE_INITS:
            raise ValueError(f"feature_init must be one of {FEATURE_INITS}, got {feature_init!r}")
        if graph_node_features not in GRAPH_NODE_FEATURES:
            raise ValueError(f"graph_node_features must be one of {GRAPH_NODE_FEATURES}, got {graph_node_features!r}")
        for name, v in (('min_count', min_count), ('max_count', max_count)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f'{name} must be a positive int (a number of nodes), got {v!r}')
        if min_count is None:
            raise ValueError('min_count must be a positive int, got None')
        if max_count is not None and max_count < min_count:
            raise ValueError(f'max_count ({max_count}) must be >= min_count ({min_count})')
        if binarize is not None and buckets is not None:
            raise ValueError('pass either binarize=<threshold> or buckets=<k>, not both')
        if binarize is not None:
            if isinstance(binarize, bool) or not isinstance(binarize, (int, float)) or binarize != binarize:
                raise ValueError(f'binarize must be a finite number (threshold), got {binarize!r}')
        if buckets is not None and (isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 2):
            raise ValueError(f'buckets must be an int >= 2 (number of quantile buckets per column), got {buckets!r}')
        self.feature_init = feature_init
        self.graph_node_features = graph_node_features
        self.min_count = min_count
        self.max_count = max_count
        self.binarize = None if binarize is None else float(binarize)
        self.buckets = buckets
        self.to_hetero = bool(to_hetero)
        self.fill = dict(fill or {})

    # ------------------------------------------------------------------------------------------------ helpers
    def _fill_value(self, key: str, t: Tensor, level: str):
        if key in self.fill:
            return self.fill[key]
        if t.dtype == torch.bool:
            return False
        if not t.is_floating_point() and not t.is_complex():
            return -1
        if level == 'node' and key == 'y':
            return float('nan')
        if level == 'edge' and key == 'edge_weight':
            return 1.0
        raise ValueError(f"cannot extend the {level}-level attribute '{key}' ({t.dtype}, shape {list(t.shape)}) to "
                         f"the new {'feature nodes' if level == 'node' else 'feature edges'}: pass "
                         f"Graphite(fill={{'{key}': <value>}}) or delete the attribute first")

    # ------------------------------------------------------------------------------------------------ forward
    def forward(self, data: Union[Data, HeteroData]) -> Union[Data, HeteroData]:
        if isinstance(data, HeteroData):
            raise TypeError('Graphite expects a homogeneous torch_geometric.data.Data; convert HeteroData with '
                            'to_homogeneous() first')
        if not isinstance(data, Data):
            raise TypeError(f'Graphite expects a torch_geometric.data.Data, got {type(data).__name__}')
        batch = data.batch if 'batch' in data else None
        if isinstance(batch, Tensor) and batch.numel() and int(batch.max()) > 0:
            raise ValueError('the input is a mini-batch of several graphs: feature nodes would be shared across '
                             'graphs; apply Graphite to each graph (as a dataset transform/pre_transform) instead')
        if 'node_type' in data:
            raise ValueError('the graph already has node_type: was Graphite applied twice?')
        x = data.x
        if x is None:
            raise ValueError('the graph has no node features (data.x is None): GRAPHITE builds feature nodes from x')
        n = data.num_nodes
        if n is None or n == 0:
            raise ValueError(f'the graph has no nodes (num_nodes={n})')
        check_features(x, n, 'data.x')
        edge_index = data.edge_index
        if edge_index is None and ('adj_t' in data or 'adj' in data):
            raise ValueError('the graph stores its edges as adj_t/adj (e.g. after T.ToSparseTensor); apply Graphite '
                             'before ToSparseTensor so that edge_index is present')
        if edge_index is None:
            edge_index = torch.empty(2, 0, dtype=torch.long, device=x.device)
        check_edge_index(edge_index, n, 'data.edge_index')
        num_e = edge_index.size(1)
        device = x.device

        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        row, vcol, num_vcols, thresholds = discrete_entries(x, self.binarize, self.buckets)
        # binary features: the nonzero entries of x are the (row, column) feature entries, all ones
        binary = (row, vcol) if self.binarize is None and self.buckets is None else None
        row, fid, used_cols, counts = select_columns(row, vcol, num_vcols, self.min_count, self.max_count)
        num_f = used_cols.numel()

        # Feature-node features (computed from the original graph-node features).
        if self.feature_init == 'mean':
            xf = feature_means(x, row, fid, num_f, counts, used_cols, binary)
        else:
            xf = torch.zeros(num_f, x.size(1), dtype=x.dtype, device=device)
            if is_sparse(x):
                xf = xf.to_sparse_coo()
        # Graph-node features.
        if self.graph_node_features == 'zeros':
            xg = torch.zeros(n, x.size(1), dtype=x.dtype, device=device)
            if is_sparse(x):
                xg = xg.to_sparse_coo()
        elif self.graph_node_features == 'normalize':
            xg = row_normalize(x)
        else:
            xg = x

        if self.buckets is not None:
            feature_column, feature_bucket = used_cols // self.buckets, used_cols % self.buckets
        else:
            feature_column, feature_bucket = used_cols, None

        if self.to_hetero:
            return self._hetero(data, xg, xf, row, fid, feature_column, feature_bucket, thresholds, n)

        levels = self._attribute_levels(data)
        out = data  # BaseTransform.__call__ passed a shallow copy: rebinding attributes never touches the input
        for key, (level, dim) in levels.items():
            value = data[key]
            extra = 2 * row.numel() if level == 'edge' else num_f
            if level == 'node' and is_sparse(value):
                raise ValueError(f"cannot extend the sparse node-level attribute '{key}'; delete it first")
            size = list(value.shape)
            size[dim] = extra
            pad = torch.full(size, self._fill_value(key, value, level), dtype=value.dtype, device=value.device)
            out[key] = torch.cat([value, pad], dim=dim)
        out.x = cat_rows(xg, xf, data.x.layout)
        out.edge_index = self._typed_edge_index(edge_index, row, fid, n)
        out.node_type = torch.full((n + num_f,), FEATURE_NODE, dtype=torch.long, device=device)
        out.node_type[:n] = GRAPH_NODE
        out.edge_type = torch.full((out.edge_index.size(1),), FEATURE_EDGE, dtype=torch.long, device=device)
        out.edge_type[:num_e] = GRAPH_EDGE
        none = torch.full((n,), -1, dtype=torch.long, device=device)
        out.feature_column = torch.cat([none, feature_column])
        if feature_bucket is not None:
            out.feature_bucket = torch.cat([none, feature_bucket])
            out.bucket_thresholds = thresholds.unsqueeze(0)
        out.num_nodes = n + num_f
        return out

    @staticmethod
    def _typed_edge_index(edge_index: Tensor, row: Tensor, fid: Tensor, n: int) -> Tensor:
        """``[2, E + 2M]``: the graph edges, the node -> feature edges, the feature -> node edges, written once into
        one preallocated tensor."""
        e, m = edge_index.size(1), row.numel()
        out = torch.empty(2, e + 2 * m, dtype=torch.long, device=edge_index.device)
        out[:, :e] = edge_index
        out[0, e:e + m] = row
        torch.add(fid, n, out=out[1, e:e + m])
        out[0, e + m:] = out[1, e:e + m]
        out[1, e + m:] = row
        return out

    @staticmethod
    def _attribute_levels(data: Data) -> Dict[str, Tuple[str, int]]:
        """``{key: ('node' | 'edge', cat_dim)}`` of the node- and edge-level tensors to extend, as PyG decides it
        (:meth:`~torch_geometric.data.Data.is_edge_attr`, :meth:`~torch_geometric.data.Data.is_node_attr`,
        :meth:`~torch_geometric.data.Data.__cat_dim__`; ``edge_weight`` is an edge attribute even when the graph
        has as many edges as nodes)."""
        levels = {}
        for key, value in data.items():
            if key in ('x', 'edge_index', 'num_nodes') or not isinstance(value, Tensor) or value.dim() == 0:
                continue
            dim = data.__cat_dim__(key, value)
            if not isinstance(dim, int):
                continue
            if data.is_edge_attr(key):
                levels[key] = ('edge', dim)
            elif data.is_node_attr(key):
                levels[key] = ('node', dim)
        return levels

    def _hetero(self, data: Data, xg: Tensor, xf: Tensor, row: Tensor, fid: Tensor, feature_column: Tensor,
                feature_bucket: Optional[Tensor], thresholds: Optional[Tensor], n: int) -> HeteroData:
        out = HeteroData()
        levels = self._attribute_levels(data)
        for key, value in data.items():
            if key in ('x', 'edge_index', 'num_nodes'):
                continue
            level = levels.get(key, (None,))[0]
            if level == 'edge':
                out['node', 'to', 'node'][key] = value
            elif level == 'node':
                out['node'][key] = value
            else:
                out[key] = value
        out['node'].x = xg
        out['node'].num_nodes = n
        out['feature'].x = xf
        out['feature'].feature_column = feature_column
        out['feature'].num_nodes = feature_column.numel()
        if feature_bucket is not None:
            out['feature'].feature_bucket = feature_bucket
            out.bucket_thresholds = thresholds.unsqueeze(0)
        ei = data.edge_index
        if ei is None:
            ei = torch.empty(2, 0, dtype=torch.long, device=xg.device)
        out['node', 'to', 'node'].edge_index = ei
        out['node', 'has', 'feature'].edge_index = torch.stack([row, fid])
        out['feature', 'of', 'node'].edge_index = torch.stack([fid, row])
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(feature_init={self.feature_init!r}, '
                f'graph_node_features={self.graph_node_features!r}, min_count={self.min_count}, '
                f'max_count={self.max_count}, binarize={self.binarize}, buckets={self.buckets}, '
                f'to_hetero={self.to_hetero})')
