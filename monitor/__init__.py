"""regmon: watches privacy regulators for statements about facial-recognition companies."""

import os

# pydantic looks for plugins through every installed package's entry points at import, a
# tenth of regmon's start-up time; regmon uses none. A user who wants some can set this.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/regmon/regmon"
