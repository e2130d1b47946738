from httpdeck.cli import main

raise SystemExit(main())
