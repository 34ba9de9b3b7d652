"""Point-in-time customer features: pure functions, DataFrame in, DataFrame out, no I/O."""
