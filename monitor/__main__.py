"""`python -m monitor` runs the same command line as `regmon`."""

from monitor.entry import main

raise SystemExit(main())
