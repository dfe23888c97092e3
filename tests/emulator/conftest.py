"""Fixtures of the emulator's own suite: one emulator process for the whole
session, wiped (state, faults, counters) before every test."""

import pytest

from emulator.harness import Emulator


@pytest.fixture(scope="session")
def emu_server():
    emu = Emulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def emu(emu_server):
    emu_server.wipe()
    yield emu_server
    emu_server.clear_faults()  # also releases a stall
