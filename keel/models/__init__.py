"""The model lifecycle core: training, artifacts, evaluation, model cards and explanations.

Plain scikit-learn and skops, no Dagster: assets and the CLI call these.
- training: build_pipeline, train_model -> TrainedModel (deterministic version)
- artifacts: ModelStore (skops files named by sha256, verified before loading)
- evaluation: evaluate, compare, gate -> GateResult
- card: model_card_markdown
- explain: top_feature_contributions
- seed_features: the seed data as a feature frame, for tests and benchmarks
"""
