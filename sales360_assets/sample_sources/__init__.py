"""Sample data for trying the platform: never read by assets, only written by commands."""
