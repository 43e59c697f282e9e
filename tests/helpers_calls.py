"""Test helper: count the calls of a function while still calling it."""

from __future__ import annotations


def count_calls(monkeypatch, owner, name: str) -> list[tuple]:
    """Replace ``owner.name`` (module attribute or method) by a wrapper that records each call's
    positional arguments and calls the original; returns the list of recorded calls."""
    calls: list[tuple] = []
    real = getattr(owner, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return calls
