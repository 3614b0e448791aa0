"""emergency campaigns: templates, campaigns and their form versions, daily reports and their
entries, people reached, tasks, key groups under watch and their reminders, test results, enterprise staff reports,
help requests, supplies items and deliveries

Revision ID: 0017_emergency_campaigns
Revises: 0016_emergency_addressbook
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0017_emergency_campaigns"
down_revision: str | None = "0016_emergency_addressbook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_template",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("form", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column(
            "settings", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "supplies", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_campaign_template")),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("template_key", sa.String(length=32), nullable=False),
        sa.Column("scope_region_id", sa.Integer(), nullable=False),
        sa.Column(
            "scope_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "settings", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"], ["account.id"], name=op.f("fk_campaign_created_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(["scope_region_id"], ["region.id"], name=op.f("fk_campaign_scope_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_scope_path"), ["scope_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_scope_region_id"), ["scope_region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_status"), ["status"], unique=False)

    op.create_table(
        "campaign_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("schema", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_form_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"], ["account.id"], name=op.f("fk_campaign_form_created_by_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_form")),
        sa.UniqueConstraint("campaign_id", "version", name="uq_campaign_form_campaign_version"),
    )
    op.create_table(
        "campaign_help",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("requester_account_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("assignee_account_id", sa.Integer(), nullable=True),
        sa.Column("escalation_level", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_account_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("escalated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_account_id"], ["account.id"], name=op.f("fk_campaign_help_answered_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_account_id"], ["account.id"], name=op.f("fk_campaign_help_assignee_account_id_account")
        ),
        sa.ForeignKeyConstraint(["building_id"], ["region.id"], name=op.f("fk_campaign_help_building_id_region")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_help_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_campaign_help_case_id_case")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_campaign_help_person_id_person")),
        sa.ForeignKeyConstraint(
            ["requester_account_id"], ["account.id"], name=op.f("fk_campaign_help_requester_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_help")),
    )
    with op.batch_alter_table("campaign_help", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_help_assignee_account_id"), ["assignee_account_id"], unique=False)
        batch_op.create_index("ix_campaign_help_campaign_path", ["campaign_id", "region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_help_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_help_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaign_help_requester_account_id"), ["requester_account_id"], unique=False
        )
        batch_op.create_index("ix_campaign_help_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "campaign_org_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("abnormal", sa.Boolean(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("reported_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_org_report_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_campaign_org_report_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_org_report")),
        sa.UniqueConstraint(
            "campaign_id", "organisation_id", "phone_hash", "day", name="uq_campaign_org_report_campaign_org_phone_day"
        ),
    )
    with op.batch_alter_table("campaign_org_report", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_org_report_campaign_path", ["campaign_id", "region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_org_report_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "campaign_reach",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("by_account_id", sa.Integer(), nullable=True),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_account_id"], ["account.id"], name=op.f("fk_campaign_reach_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_reach_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_campaign_reach_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_reach")),
        sa.UniqueConstraint("campaign_id", "person_id", name="uq_campaign_reach_campaign_person"),
    )
    with op.batch_alter_table("campaign_reach", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_reach_campaign_path", ["campaign_id", "region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_reach_person_id"), ["person_id"], unique=False)

    op.create_table(
        "campaign_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("abnormal", sa.Boolean(), nullable=False),
        sa.Column(
            "abnormal_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("key_group", sa.Boolean(), nullable=False),
        sa.Column("slots", sa.SmallInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reported_by_account_id", sa.Integer(), nullable=True),
        sa.Column("first_reported_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reported_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["region.id"], name=op.f("fk_campaign_report_building_id_region")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_report_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_campaign_report_household_id_household")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_campaign_report_person_id_person")),
        sa.ForeignKeyConstraint(
            ["reported_by_account_id"], ["account.id"], name=op.f("fk_campaign_report_reported_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_campaign_report_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_report")),
        sa.UniqueConstraint("campaign_id", "person_id", "day", name="uq_campaign_report_campaign_person_day"),
    )
    with op.batch_alter_table("campaign_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_report_campaign_day_path", ["campaign_id", "day", "region_path"], unique=False
        )
        batch_op.create_index("ix_campaign_report_campaign_path", ["campaign_id", "region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_report_person_id"), ["person_id"], unique=False)

    op.create_table(
        "campaign_supplies_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by_account_id", sa.Integer(), nullable=True),
        sa.Column("delivered_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_account_id"], ["account.id"], name=op.f("fk_campaign_supplies_delivery_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_supplies_delivery_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_campaign_supplies_delivery_household_id_household")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_campaign_supplies_delivery_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_supplies_delivery")),
    )
    with op.batch_alter_table("campaign_supplies_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_supplies_delivery_campaign_path", ["campaign_id", "region_path"], unique=False
        )
        batch_op.create_index("ix_campaign_supplies_delivery_campaign_room", ["campaign_id", "room_id"], unique=False)

    op.create_table(
        "campaign_supplies_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_supplies_item_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_supplies_item")),
        sa.UniqueConstraint("campaign_id", "code", name="uq_campaign_supplies_item_campaign_code"),
    )
    op.create_table(
        "campaign_task",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("done_by_account_id", sa.Integer(), nullable=True),
        sa.Column("done_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_task_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["done_by_account_id"], ["account.id"], name=op.f("fk_campaign_task_done_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_campaign_task_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_task")),
        sa.UniqueConstraint("campaign_id", "region_id", "kind", name="uq_campaign_task_campaign_region_kind"),
    )
    with op.batch_alter_table("campaign_task", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_task_campaign_path", ["campaign_id", "region_path"], unique=False)

    op.create_table(
        "campaign_test_result",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("sampled_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_account_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_test_result_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_campaign_test_result_person_id_person")),
        sa.ForeignKeyConstraint(
            ["recorded_by_account_id"],
            ["account.id"],
            name=op.f("fk_campaign_test_result_recorded_by_account_id_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_test_result")),
    )
    with op.batch_alter_table("campaign_test_result", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_test_result_campaign_path", ["campaign_id", "region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_test_result_person_id"), ["person_id"], unique=False)

    op.create_table(
        "campaign_watch",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by_account_id", sa.Integer(), nullable=True),
        sa.Column("since", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_account_id"], ["account.id"], name=op.f("fk_campaign_watch_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_watch_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_campaign_watch_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_watch")),
        sa.UniqueConstraint("campaign_id", "person_id", "tag", name="uq_campaign_watch_campaign_person_tag"),
    )
    with op.batch_alter_table("campaign_watch", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_watch_campaign_path", ["campaign_id", "region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_watch_person_id"), ["person_id"], unique=False)

    op.create_table(
        "campaign_report_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("abnormal", sa.Boolean(), nullable=False),
        sa.Column("reported_by_account_id", sa.Integer(), nullable=True),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["campaign_report.id"],
            name=op.f("fk_campaign_report_entry_report_id_campaign_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_account_id"],
            ["account.id"],
            name=op.f("fk_campaign_report_entry_reported_by_account_id_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_report_entry")),
    )
    with op.batch_alter_table("campaign_report_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_report_entry_report_id"), ["report_id"], unique=False)
    op.create_table(
        "campaign_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_reminder_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_reminder")),
        sa.UniqueConstraint("campaign_id", "day", "slot", name="uq_campaign_reminder_campaign_day_slot"),
    )


def downgrade() -> None:
    op.drop_table("campaign_reminder")
    with op.batch_alter_table("campaign_report_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_report_entry_report_id"))

    op.drop_table("campaign_report_entry")
    with op.batch_alter_table("campaign_watch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_watch_person_id"))
        batch_op.drop_index("ix_campaign_watch_campaign_path")

    op.drop_table("campaign_watch")
    with op.batch_alter_table("campaign_test_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_test_result_person_id"))
        batch_op.drop_index("ix_campaign_test_result_campaign_path")

    op.drop_table("campaign_test_result")
    with op.batch_alter_table("campaign_task", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_task_campaign_path")

    op.drop_table("campaign_task")
    op.drop_table("campaign_supplies_item")
    with op.batch_alter_table("campaign_supplies_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_supplies_delivery_campaign_room")
        batch_op.drop_index("ix_campaign_supplies_delivery_campaign_path")

    op.drop_table("campaign_supplies_delivery")
    with op.batch_alter_table("campaign_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_report_person_id"))
        batch_op.drop_index("ix_campaign_report_campaign_path")
        batch_op.drop_index("ix_campaign_report_campaign_day_path")

    op.drop_table("campaign_report")
    with op.batch_alter_table("campaign_reach", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_reach_person_id"))
        batch_op.drop_index("ix_campaign_reach_campaign_path")

    op.drop_table("campaign_reach")
    with op.batch_alter_table("campaign_org_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_org_report_organisation_id"))
        batch_op.drop_index("ix_campaign_org_report_campaign_path")

    op.drop_table("campaign_org_report")
    with op.batch_alter_table("campaign_help", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_help_status_due")
        batch_op.drop_index(batch_op.f("ix_campaign_help_requester_account_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_help_person_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_help_case_id"))
        batch_op.drop_index("ix_campaign_help_campaign_path")
        batch_op.drop_index(batch_op.f("ix_campaign_help_assignee_account_id"))

    op.drop_table("campaign_help")
    op.drop_table("campaign_form")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_status"))
        batch_op.drop_index(batch_op.f("ix_campaign_scope_region_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_scope_path"))

    op.drop_table("campaign")
    op.drop_table("campaign_template")
