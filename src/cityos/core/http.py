"""Request-scoped database session: commit on success, roll back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cityos.core.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _finish(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request. Opening one does no I/O, so it happens on the event loop; the
    commit (or rollback) and close run in one worker-thread hop, keeping blocking I/O off the loop."""
    session = get_runtime(request).session_factory()
    try:
        yield session
    except BaseException:
        await anyio.to_thread.run_sync(_finish, session, False)
        raise
    await anyio.to_thread.run_sync(_finish, session, True)


# scope="function": commit before the response is sent, so a failed commit is an error response.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
