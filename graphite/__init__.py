"""graphite: learning on heterophilic graphs with PyTorch Geometric."""
__version__ = '0.1.0'
