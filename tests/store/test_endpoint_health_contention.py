"""Outcomes recorded while another writer holds the endpoint's row, on PostgreSQL (several
dispatch workers, each with several writer threads).

Recording an outcome also notes the endpoint's health (last success, failing since). Each
writer's transaction used to wait for the endpoint rows another held to its commit: the
workers took turns, and two transactions holding several rounds' outcomes deadlocked
(PostgreSQL aborted one; its outcomes were lost until the leases brought the deliveries back
as duplicates). A row another writer holds is now left to it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select, text

from alertcommons.store import deliveries as delivery_queries
from alertcommons.store.deliveries import Outcome
from alertcommons.store.schema import endpoints
from tests.support.hub import Hub

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


async def test_an_outcome_does_not_wait_for_an_endpoint_row_another_writer_holds(
    hub: Hub, database_url: str
) -> None:
    hub.dispatch_fast(max_in_flight=0, urgent_reserve=0)  # the dispatcher claims nothing
    store = hub.services.store
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    body = {"channel": "webhook", "url": "http://127.0.0.1:9/a"}
    made = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
    assert made.status_code == 201, made.text
    endpoint_id = made.json()["id"]

    def outcome() -> Outcome:
        # no delivery row by that id: only the endpoint's health is written
        return Outcome("no-such-delivery", endpoint_id, "delivered", at=datetime.now(UTC))

    def last_success() -> datetime | None:
        query = select(endpoints.c.last_success_at).where(endpoints.c.id == endpoint_id)
        found: datetime | None = store.run_read(lambda c: c.execute(query).scalar_one())
        return found

    engine = create_engine(database_url)
    try:
        with engine.connect() as holder:  # another writer, in the middle of its transaction
            holder.begin()
            holder.execute(
                text("SELECT id FROM endpoints WHERE id = :id FOR UPDATE"), {"id": endpoint_id}
            )
            recorded = store.write(lambda c: delivery_queries.record(c, [outcome()]))
            await asyncio.wait_for(recorded, 10)  # waited until the holder's commit before
            assert last_success() is None  # left to the writer holding the row
            holder.rollback()
    finally:
        engine.dispose()
    # Nobody holds it: the next outcome notes the success.
    await store.write(lambda c: delivery_queries.record(c, [outcome()]))
    assert last_success() is not None
