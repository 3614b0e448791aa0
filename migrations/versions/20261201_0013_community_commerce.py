"""neighbourhood commerce (邻里商业): offers, orders and their timeline

Revision ID: 0013_community_commerce
Revises: 0012_community_property
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityos.core.db

revision: str = "0013_community_commerce"
down_revision: str | None = "0012_community_property"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PATH = sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "commerce_offer",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("region_path", _PATH, nullable=False),
        sa.Column("opening_hours", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_commerce_offer_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_offer")),
    )
    op.create_index(op.f("ix_commerce_offer_category"), "commerce_offer", ["category"], unique=False)
    op.create_index("ix_commerce_offer_lat_lon", "commerce_offer", ["lat", "lon"], unique=False)
    op.create_index(op.f("ix_commerce_offer_organisation_id"), "commerce_offer", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_commerce_offer_region_path"), "commerce_offer", ["region_path"], unique=False)
    op.create_table(
        "commerce_order",
        sa.Column("id", _ID, nullable=False),
        sa.Column("no", sa.String(length=24), nullable=False),
        sa.Column("offer_id", _ID, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("region_path", _PATH, nullable=True),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("preferred_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_commerce_order_account_id_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["commerce_offer.id"],
            name=op.f("fk_commerce_order_offer_id_commerce_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_commerce_order_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_commerce_order_person_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_commerce_order_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order")),
        sa.UniqueConstraint("no", name=op.f("uq_commerce_order_no")),
    )
    op.create_index("ix_commerce_order_account_created", "commerce_order", ["account_id", "created_at"], unique=False)
    op.create_index(op.f("ix_commerce_order_offer_id"), "commerce_order", ["offer_id"], unique=False)
    op.create_index("ix_commerce_order_org_status", "commerce_order", ["organisation_id", "status"], unique=False)
    op.create_index("ix_commerce_order_status_created", "commerce_order", ["status", "created_at"], unique=False)
    op.create_index(op.f("ix_commerce_order_person_id"), "commerce_order", ["person_id"], unique=False)
    op.create_index(op.f("ix_commerce_order_region_path"), "commerce_order", ["region_path"], unique=False)
    op.create_table(
        "commerce_order_event",
        sa.Column("id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by_account_id", sa.Integer(), nullable=True),
        sa.Column("by_side", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_account_id"],
            ["account.id"],
            name=op.f("fk_commerce_order_event_by_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commerce_order.id"],
            name=op.f("fk_commerce_order_event_order_id_commerce_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_event")),
    )
    op.create_index(op.f("ix_commerce_order_event_order_id"), "commerce_order_event", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_table("commerce_order_event")
    op.drop_table("commerce_order")
    op.drop_table("commerce_offer")
