"""Request-scoped database session: commit on success, roll back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cityos.core.db import only_read
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
    """One session per request, committed on success and rolled back on error.

    Opening a session does no I/O, so it happens on the event loop. A request that wrote
    commits in a worker thread. A request that only read ends its transaction on the loop:
    that is one short ROLLBACK, and a thread hop costs more than it on a small machine.
    """
    session = get_runtime(request).session_factory()
    try:
        yield session
    except BaseException:
        await anyio.to_thread.run_sync(_finish, session, False)
        raise
    if only_read(session):
        session.close()
    else:
        await anyio.to_thread.run_sync(_finish, session, True)


# scope="function": commit before the response is sent, so a failed commit is an error response.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
