"""Training tests run on one CPU thread: the machine is shared, and oversubscribed
OpenMP threads make tiny models 10x slower without changing any result we check."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
