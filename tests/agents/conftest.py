"""Torch tests run single-threaded and deterministic, and restore the global settings."""

from torch_helpers import deterministic_torch

__all__ = ["deterministic_torch"]
