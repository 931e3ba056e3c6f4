"""`python -m bot` runs the `firebell` command."""

from bot.cli import main

raise SystemExit(main())
