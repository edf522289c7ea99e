import sys

from qingyuan.cli import main

sys.exit(main())
