"""``python -m graphcon_ode.cli VERB ...`` (as torchrun launches it) is the ``graphcon-ode`` command."""

import sys

from graphcon_ode.cli import main

sys.exit(main())
