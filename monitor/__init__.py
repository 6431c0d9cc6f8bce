"""regmon: watches privacy regulators for statements about facial-recognition companies."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/regmon/regmon"
