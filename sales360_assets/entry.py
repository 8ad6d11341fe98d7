"""The ``sales360`` console script.

The deployment configuration (``SALES360_CONFIG``) is read when ``settings`` is first imported,
which the CLI module does at import: a broken file would surface as an import traceback before
``cli.main`` could report it. This entry point imports the CLI itself and turns that one error
into the short message the file check already wrote (file, field, what is wrong).
"""

from __future__ import annotations

import sys

from sales360_assets.deployment_config import CONFIG_ENV, DeploymentConfigError


def main(argv: list[str] | None = None) -> int:
    try:
        from sales360_assets.cli import main as cli_main
    except DeploymentConfigError as exc:
        print(f"error: {exc}\n(fix the file, or unset {CONFIG_ENV} to run with the built-in regions)", file=sys.stderr)
        return 2
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
