import sys

from racecheck.cli import main

sys.exit(main())
