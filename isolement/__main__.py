import sys

from isolement.cli import main

sys.exit(main())
