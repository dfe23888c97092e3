"""The hwcfs cloud emulator (emulator.py), its signer and test harness."""
