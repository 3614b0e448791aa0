"""notices, surveys, votes, help and grid tasks

Revision ID: 0014_community_governance
Revises: 0013_community_commerce
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0014_community_governance"
down_revision: str | None = "0013_community_commerce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community_volunteer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("skills", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("intro", sa.String(length=255), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_community_volunteer_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_volunteer")),
        sa.UniqueConstraint("person_id", name=op.f("uq_community_volunteer_person_id")),
    )
    with op.batch_alter_table("community_volunteer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_volunteer_region_path"), ["region_path"], unique=False)

    op.create_table(
        "community_survey",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("tag_match", sa.String(length=8), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column(
            "questions", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closes_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author_account_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=128), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_account_id"], ["account.id"], name=op.f("fk_community_survey_author_account_id_account")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_community_survey_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_survey")),
    )
    with op.batch_alter_table("community_survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_survey_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_survey_region_path"), ["region_path"], unique=False)
        batch_op.create_index("ix_community_survey_status_closes", ["status", "closes_at"], unique=False)

    op.create_table(
        "community_task_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("tag_match", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_period", sa.String(length=16), nullable=True),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_by_label", sa.String(length=128), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"], ["account.id"], name=op.f("fk_community_task_plan_created_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_community_task_plan_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_task_plan")),
    )
    with op.batch_alter_table("community_task_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_task_plan_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_task_plan_region_path"), ["region_path"], unique=False)

    op.create_table(
        "community_vote",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("matter", sa.String(length=16), nullable=False),
        sa.Column("weighting", sa.String(length=16), nullable=False),
        sa.Column(
            "options", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closes_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("total_rooms", sa.Integer(), nullable=False),
        sa.Column("total_area", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=True),
        sa.Column("called_by_account_id", sa.Integer(), nullable=True),
        sa.Column("called_by_label", sa.String(length=128), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["called_by_account_id"], ["account.id"], name=op.f("fk_community_vote_called_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_community_vote_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_vote")),
    )
    with op.batch_alter_table("community_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_vote_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_vote_region_path"), ["region_path"], unique=False)
        batch_op.create_index("ix_community_vote_status_closes", ["status", "closes_at"], unique=False)

    op.create_table(
        "community_grid_task",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["region.id"], name=op.f("fk_community_grid_task_grid_id_region")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_community_grid_task_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["community_task_plan.id"],
            name=op.f("fk_community_grid_task_plan_id_community_task_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_grid_task")),
        sa.UniqueConstraint("plan_id", "period", "person_id", name="uq_community_grid_task_once"),
    )
    with op.batch_alter_table("community_grid_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_grid_task_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index("ix_community_grid_task_path_status", ["region_path", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_grid_task_person_id"), ["person_id"], unique=False)

    op.create_table(
        "community_help",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "community_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("taker_person_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_community_help_case_id_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_community_help_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_community_help_region_id_region")),
        sa.ForeignKeyConstraint(
            ["taker_person_id"], ["person.id"], name=op.f("fk_community_help_taker_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_help")),
    )
    with op.batch_alter_table("community_help", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_help_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_community_help_community_status", ["community_path", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_help_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_help_taker_person_id"), ["taker_person_id"], unique=False)

    op.create_table(
        "community_notice",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("tag_match", sa.String(length=8), nullable=False),
        sa.Column("vote_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("author_account_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=128), nullable=False),
        sa.Column("published_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_account_id"], ["account.id"], name=op.f("fk_community_notice_author_account_id_account")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_community_notice_region_id_region")),
        sa.ForeignKeyConstraint(
            ["vote_id"],
            ["community_vote.id"],
            name=op.f("fk_community_notice_vote_id_community_vote"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_notice")),
    )
    with op.batch_alter_table("community_notice", schema=None) as batch_op:
        batch_op.create_index("ix_community_notice_path_published", ["region_path", "published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_notice_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_notice_vote_id"), ["vote_id"], unique=False)

    op.create_table(
        "community_survey_answer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_community_survey_answer_person_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["community_survey.id"],
            name=op.f("fk_community_survey_answer_survey_id_community_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_survey_answer")),
        sa.UniqueConstraint("survey_id", "respondent_key", name="uq_community_survey_answer_once"),
    )
    op.create_table(
        "community_vote_ballot",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vote_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.BigInteger(), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=True),
        sa.Column("cast_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_community_vote_ballot_room_id_region")),
        sa.ForeignKeyConstraint(
            ["vote_id"],
            ["community_vote.id"],
            name=op.f("fk_community_vote_ballot_vote_id_community_vote"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_vote_ballot")),
        sa.UniqueConstraint("vote_id", "room_id", name="uq_community_vote_ballot_room"),
    )
    with op.batch_alter_table("community_vote_ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_vote_ballot_room_id"), ["room_id"], unique=False)

    op.create_table(
        "community_notice_read",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("notice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("read_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["community_notice.id"],
            name=op.f("fk_community_notice_read_notice_id_community_notice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_community_notice_read_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_notice_read")),
        sa.UniqueConstraint("notice_id", "person_id", name="uq_community_notice_read_once"),
    )
    with op.batch_alter_table("community_notice_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_notice_read_person_id"), ["person_id"], unique=False)

    op.create_table(
        "community_visit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("visited_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("worker_account_id", sa.Integer(), nullable=True),
        sa.Column("worker_label", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_community_visit_case_id_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_community_visit_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["community_grid_task.id"],
            name=op.f("fk_community_visit_task_id_community_grid_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_account_id"], ["account.id"], name=op.f("fk_community_visit_worker_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_visit")),
    )
    with op.batch_alter_table("community_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_visit_region_path"), ["region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_visit_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_visit_visited_at"), ["visited_at"], unique=False)

    op.create_table(
        "community_volunteer_hours",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("help_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("logged_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["help_id"],
            ["community_help.id"],
            name=op.f("fk_community_volunteer_hours_help_id_community_help"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["logged_by_account_id"],
            ["account.id"],
            name=op.f("fk_community_volunteer_hours_logged_by_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["community_volunteer.id"],
            name=op.f("fk_community_volunteer_hours_volunteer_id_community_volunteer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_volunteer_hours")),
    )
    with op.batch_alter_table("community_volunteer_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_volunteer_hours_volunteer_id"), ["volunteer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("community_volunteer_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_volunteer_hours_volunteer_id"))

    op.drop_table("community_volunteer_hours")
    with op.batch_alter_table("community_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_visit_visited_at"))
        batch_op.drop_index(batch_op.f("ix_community_visit_task_id"))
        batch_op.drop_index(batch_op.f("ix_community_visit_region_path"))

    op.drop_table("community_visit")
    with op.batch_alter_table("community_notice_read", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_notice_read_person_id"))

    op.drop_table("community_notice_read")
    with op.batch_alter_table("community_vote_ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_vote_ballot_room_id"))

    op.drop_table("community_vote_ballot")
    op.drop_table("community_survey_answer")
    with op.batch_alter_table("community_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_notice_vote_id"))
        batch_op.drop_index(batch_op.f("ix_community_notice_region_id"))
        batch_op.drop_index("ix_community_notice_path_published")

    op.drop_table("community_notice")
    with op.batch_alter_table("community_help", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_help_taker_person_id"))
        batch_op.drop_index(batch_op.f("ix_community_help_person_id"))
        batch_op.drop_index("ix_community_help_community_status")
        batch_op.drop_index(batch_op.f("ix_community_help_case_id"))

    op.drop_table("community_help")
    with op.batch_alter_table("community_grid_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_grid_task_person_id"))
        batch_op.drop_index("ix_community_grid_task_path_status")
        batch_op.drop_index(batch_op.f("ix_community_grid_task_grid_id"))

    op.drop_table("community_grid_task")
    with op.batch_alter_table("community_vote", schema=None) as batch_op:
        batch_op.drop_index("ix_community_vote_status_closes")
        batch_op.drop_index(batch_op.f("ix_community_vote_region_path"))
        batch_op.drop_index(batch_op.f("ix_community_vote_region_id"))

    op.drop_table("community_vote")
    with op.batch_alter_table("community_task_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_task_plan_region_path"))
        batch_op.drop_index(batch_op.f("ix_community_task_plan_region_id"))

    op.drop_table("community_task_plan")
    with op.batch_alter_table("community_survey", schema=None) as batch_op:
        batch_op.drop_index("ix_community_survey_status_closes")
        batch_op.drop_index(batch_op.f("ix_community_survey_region_path"))
        batch_op.drop_index(batch_op.f("ix_community_survey_region_id"))

    op.drop_table("community_survey")
    with op.batch_alter_table("community_volunteer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_volunteer_region_path"))

    op.drop_table("community_volunteer")
