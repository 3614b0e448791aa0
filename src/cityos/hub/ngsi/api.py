"""Placeholder: see the hub brief (filled by its owner)."""

from fastapi import APIRouter

router = APIRouter()
