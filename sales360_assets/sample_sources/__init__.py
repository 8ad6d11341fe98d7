"""Sample data for trying the platform: never read by assets, only written by commands.

``generator`` writes the full deterministic sample (``sales360 generate``), one module per
system beside it; ``example_export`` writes the small bring-your-own walkthrough export.
Nothing here is imported by the runtime source clients in ``sources/``.
"""
