import sys

from wheelworks.cli import main

sys.exit(main())
