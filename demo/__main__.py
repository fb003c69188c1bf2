"""python -m demo: see the package's docstring."""
import sys

from demo.load import main

sys.exit(main())
