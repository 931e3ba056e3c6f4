"""The YAML config: typed models, loading and validation."""
