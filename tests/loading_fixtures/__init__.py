"""Plugins that are wrong in one specific way each, for the loader's error tests.

They are reached only through ``module:Class`` paths or through entry points of a
throw-away distribution that a test puts on ``sys.path``; nothing here is
registered under naas's production entry points.
"""
