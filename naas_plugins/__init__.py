"""The plugins bundled with naas: ``memory`` (in-process) and ``sql`` (oslo.db)."""

__all__: list[str] = []
