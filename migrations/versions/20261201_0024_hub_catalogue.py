"""data catalogue, grants and the read log

Revision ID: 0024_hub_catalogue
Revises: 0023_hub_devices
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityos.core.db

revision: str = "0024_hub_catalogue"
down_revision: str | None = "0023_hub_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = cityos.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("region_path", cityos.core.db.PathType, nullable=False),
        sa.Column("access_class", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("fields", cityos.core.db.JSONType, nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("tags", cityos.core.db.JSONType, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_rows", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("withdrawn_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_hub_dataset_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_dataset")),
        sa.UniqueConstraint("code", name=op.f("uq_hub_dataset_code")),
    )
    with op.batch_alter_table("hub_dataset") as batch:
        batch.create_index(batch.f("ix_hub_dataset_department_id"), ["department_id"])
        batch.create_index(batch.f("ix_hub_dataset_region_path"), ["region_path"])
        batch.create_index(batch.f("ix_hub_dataset_access_class"), ["access_class"])
        batch.create_index(batch.f("ix_hub_dataset_status"), ["status"])

    op.create_table(
        "hub_data_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("fields", cityos.core.db.JSONType, nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("process_instance_id", sa.Integer(), nullable=True),
        sa.Column("first_approver_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", When, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["hub_dataset.id"],
            name=op.f("fk_hub_data_request_dataset_id_hub_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_hub_data_request_department_id_department")
        ),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_hub_data_request_account_id_account")),
        sa.ForeignKeyConstraint(
            ["process_instance_id"],
            ["process_instance.id"],
            name=op.f("fk_hub_data_request_process_instance_id_process_instance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_data_request")),
    )
    with op.batch_alter_table("hub_data_request") as batch:
        batch.create_index(batch.f("ix_hub_data_request_dataset_id"), ["dataset_id"])
        batch.create_index(batch.f("ix_hub_data_request_department_id"), ["department_id"])
        batch.create_index(batch.f("ix_hub_data_request_account_id"), ["account_id"])
        batch.create_index(batch.f("ix_hub_data_request_status"), ["status"])
        batch.create_index(batch.f("ix_hub_data_request_created_at"), ["created_at"])

    op.create_table(
        "hub_data_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("fields", cityos.core.db.JSONType, nullable=False),
        sa.Column("masked", cityos.core.db.JSONType, nullable=False),
        sa.Column("valid_from", When, nullable=False),
        sa.Column("valid_until", When, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.String(length=128), nullable=False),
        sa.Column("revoked_at", When, nullable=True),
        sa.Column("revoked_by", sa.String(length=128), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["hub_dataset.id"],
            name=op.f("fk_hub_data_grant_dataset_id_hub_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_hub_data_grant_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["hub_data_request.id"], name=op.f("fk_hub_data_grant_request_id_hub_data_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_data_grant")),
    )
    with op.batch_alter_table("hub_data_grant") as batch:
        batch.create_index(batch.f("ix_hub_data_grant_dataset_id"), ["dataset_id"])
        batch.create_index(batch.f("ix_hub_data_grant_department_id"), ["department_id"])
        batch.create_index(batch.f("ix_hub_data_grant_valid_until"), ["valid_until"])
        batch.create_index(batch.f("ix_hub_data_grant_status"), ["status"])
        batch.create_index("ix_hub_data_grant_lookup", ["dataset_id", "department_id", "status"])

    op.create_table(
        "hub_readlog_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_readlog_head")),
    )
    op.execute("INSERT INTO hub_readlog_head (id, seq, hash) VALUES (1, 0, '')")

    op.create_table(
        "hub_readlog",
        sa.Column("id", BigId, nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("actor_label", sa.String(length=128), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("dataset_code", sa.String(length=64), nullable=False),
        sa.Column("owner_department_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("query", cityos.core.db.JSONType, nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("fields", cityos.core.db.JSONType, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_readlog")),
        sa.UniqueConstraint("seq", name=op.f("uq_hub_readlog_seq")),
    )
    with op.batch_alter_table("hub_readlog") as batch:
        batch.create_index(batch.f("ix_hub_readlog_at"), ["at"])
        batch.create_index(batch.f("ix_hub_readlog_dataset_id"), ["dataset_id"])
        batch.create_index(batch.f("ix_hub_readlog_owner_department_id"), ["owner_department_id"])
        batch.create_index("ix_hub_readlog_dataset_at", ["dataset_id", "at"])


def downgrade() -> None:
    op.drop_table("hub_readlog")
    op.drop_table("hub_readlog_head")
    op.drop_table("hub_data_grant")
    op.drop_table("hub_data_request")
    op.drop_table("hub_dataset")
