"""Shared paths and fixtures. Ground truth comes from ../shared/fixtures (written by the original code)."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KEXUE_SHARED", REPO.parent / "shared"))
FIXTURES = SHARED / "fixtures"
BERT4KERAS_VERSIONS = ("0.11.3", "0.11.5")
MODEL_FIXTURES = ("roformer_v2_tiny", "gau_alpha_tiny")
TRANSFORMER_VQ_FIXTURES = ("tvq_tiny_enwik8", "tvq_tiny_pg19")
PARITY_TOLERANCE = 1e-4


def pytest_configure(config):
    if not FIXTURES.is_dir():
        raise pytest.UsageError(f"{FIXTURES}: ground-truth fixtures not found; set KEXUE_SHARED to the shared/ folder")


def release_dir(version: str, model: str) -> Path:
    path = FIXTURES / f"bert4keras-{version}" / model
    if not path.is_dir():
        pytest.fail(f"{path}: fixture missing; set KEXUE_SHARED to the shared/ folder")
    return path


def transformer_vq_dir(name: str) -> Path:
    path = FIXTURES / "transformer_vq" / name
    if not path.is_dir():
        pytest.fail(f"{path}: fixture missing; set KEXUE_SHARED to the shared/ folder")
    return path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)
