"""A plugin module that exists but needs a library that is not installed."""

import naas_tests_absent_vendor_sdk  # type: ignore[import-not-found]  # noqa: F401
