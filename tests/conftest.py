"""Root conftest: makes tests/ importable so that every suite can write
`from emulator.harness import Emulator`."""
import os
import sys

_TESTS = os.path.dirname(os.path.abspath(__file__))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
