"""``python -m llama_models``: the same as the ``llama-models`` command."""

from ._cli import main

raise SystemExit(main())
