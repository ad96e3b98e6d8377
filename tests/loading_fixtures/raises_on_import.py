"""A plugin module whose import fails: its SDK is not configured."""

raise RuntimeError("vendor SDK: no controller address configured")
