"""政务服务事项 (service items), 一件事一次办 bundles and per-district local sites."""
