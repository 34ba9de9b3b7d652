"""Estimators (value, churn, BTYD baselines), metrics, tiering and assignment; no I/O."""
