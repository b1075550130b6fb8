import sys

from isolement.cli.main import main

sys.exit(main())
