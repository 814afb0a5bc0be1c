"""Checker errors: the annotated corpus in tests/data/errors (### expectations)."""
from __future__ import annotations

import pytest

from mfltest import check_chunk, chunks


@pytest.mark.parametrize("chunk", chunks("errors"), ids=str)
def test_error_corpus(chunk, tmp_path):
    check_chunk(chunk, tmp_path)
