"""Stage entry points, CLI, configuration and I/O: the only package that touches files."""
