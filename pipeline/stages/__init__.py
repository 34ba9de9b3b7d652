"""One module per stage; each exposes `main(settings, ...)` and is called by the CLI and dvc."""
