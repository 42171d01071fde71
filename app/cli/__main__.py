"""`python -m app.cli …`: the same commands as the `fieldapp` script."""

from app.cli import main

raise SystemExit(main())
