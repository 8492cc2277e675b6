"""`python -m silifc.cli ...` = `silifc ...` (e.g. under torchrun: `torchrun --nproc-per-node 2 -m silifc.cli train ...`)."""
import sys

from . import main

sys.exit(main())
