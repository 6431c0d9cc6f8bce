"""`python -m monitor` runs the same command line as `regmon`."""

from monitor.cli import main

raise SystemExit(main())
