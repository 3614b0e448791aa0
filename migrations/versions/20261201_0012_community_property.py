"""property operations: tariffs, bills and payments, meter readings, parking, parcel lockers,
garbage sorting, facility faults

Revision ID: 0012_community_property
Revises: 0011_community_access
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0012_community_property"
down_revision: str | None = "0011_community_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "property_household_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["region.id"], name=op.f("fk_property_household_points_estate_id_region")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_property_household_points_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_household_points")),
        sa.UniqueConstraint("room_id", name=op.f("uq_property_household_points_room_id")),
    )
    with op.batch_alter_table("property_household_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_household_points_estate_id"), ["estate_id"], unique=False)
    op.create_table(
        "property_bill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("no", sa.String(length=40), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("last_reminded_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["building_id"], ["region.id"], name=op.f("fk_property_bill_building_id_region")),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_bill_estate_id_region")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_property_bill_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_property_bill_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_bill")),
        sa.UniqueConstraint("no", name=op.f("uq_property_bill_no")),
        sa.UniqueConstraint("room_id", "kind", "period", name="uq_property_bill_room_kind_period"),
    )
    with op.batch_alter_table("property_bill", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_bill_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_bill_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_bill_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_bill_region_path"), ["region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_bill_room_id"), ["room_id"], unique=False)
        batch_op.create_index("ix_property_bill_status_due_at", ["status", "due_at"], unique=False)
    op.create_table(
        "property_meter_reading",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value_milli", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_property_meter_reading_device_id_device"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_meter_reading")),
        sa.UniqueConstraint("device_id", "at", name="uq_property_meter_reading_device_at"),
    )
    op.create_table(
        "property_parcel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "estate_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("locker_id", sa.Integer(), nullable=False),
        sa.Column("compartment", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("recipient_person_id", sa.Integer(), nullable=True),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("phone_masked", sa.String(length=16), nullable=True),
        sa.Column("code_enc", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("courier", sa.String(length=64), nullable=True),
        sa.Column("tracking_no", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deposited_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("picked_up_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_parcel_estate_id_region")),
        sa.ForeignKeyConstraint(
            ["locker_id"], ["device.id"], name=op.f("fk_property_parcel_locker_id_device"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_person_id"], ["person.id"], name=op.f("fk_property_parcel_recipient_person_id_person")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_property_parcel_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_parcel")),
    )
    with op.batch_alter_table("property_parcel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_parcel_code_hash"), ["code_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_parcel_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_parcel_estate_path"), ["estate_path"], unique=False)
        batch_op.create_index("ix_property_parcel_locker_status", ["locker_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_property_parcel_recipient_person_id"), ["recipient_person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_property_parcel_room_id"), ["room_id"], unique=False)
        batch_op.create_index("ix_property_parcel_status_deposited_at", ["status", "deposited_at"], unique=False)
    op.create_table(
        "property_parking_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("received_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["device.id"], name=op.f("fk_property_parking_event_camera_id_device"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_parking_event_estate_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_parking_event")),
        sa.UniqueConstraint("camera_id", "plate", "direction", "at", name="uq_property_parking_event_read"),
    )
    with op.batch_alter_table("property_parking_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_parking_event_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index("ix_property_parking_event_estate_plate_at", ["estate_id", "plate", "at"], unique=False)
    op.create_table(
        "property_parking_lease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_parking_lease_estate_id_region")),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_property_parking_lease_room_id_region")),
        sa.ForeignKeyConstraint(
            ["space_id"], ["device.id"], name=op.f("fk_property_parking_lease_space_id_device"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_parking_lease")),
    )
    with op.batch_alter_table("property_parking_lease", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_parking_lease_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_parking_lease_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_parking_lease_space_id"), ["space_id"], unique=False)
    op.create_table(
        "property_tariff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "estate_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("property_fee_fen_per_m2", sa.Integer(), nullable=False),
        sa.Column("default_area_m2", sa.Float(), nullable=False),
        sa.Column("parking_monthly_fen", sa.Integer(), nullable=False),
        sa.Column("water_fen_per_m3", sa.Integer(), nullable=False),
        sa.Column("power_fen_per_kwh", sa.Integer(), nullable=False),
        sa.Column("visitor_free_minutes", sa.Integer(), nullable=False),
        sa.Column("visitor_hourly_fen", sa.Integer(), nullable=False),
        sa.Column("visitor_daily_cap_fen", sa.Integer(), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("payment_gateway", sa.String(length=32), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_tariff_estate_id_region")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_property_tariff_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_tariff")),
        sa.UniqueConstraint("estate_id", name=op.f("uq_property_tariff_estate_id")),
    )
    with op.batch_alter_table("property_tariff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_tariff_estate_path"), ["estate_path"], unique=False)
    op.create_table(
        "property_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payer_account_id", sa.Integer(), nullable=True),
        sa.Column("pay_url", sa.String(length=512), nullable=False),
        sa.Column("return_url", sa.String(length=512), nullable=False),
        sa.Column("gateway_ref", sa.String(length=64), nullable=True),
        sa.Column("receipt_no", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["property_bill.id"],
            name=op.f("fk_property_payment_bill_id_property_bill"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payer_account_id"], ["account.id"], name=op.f("fk_property_payment_payer_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_payment")),
        sa.UniqueConstraint("gateway", "external_id", name="uq_property_payment_gateway_external"),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_property_payment_receipt_no")),
    )
    with op.batch_alter_table("property_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_payment_bill_id"), ["bill_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_payment_payer_account_id"), ["payer_account_id"], unique=False)
    op.create_table(
        "property_sorting_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("bin_id", sa.Integer(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=True),
        sa.Column("by_account_id", sa.Integer(), nullable=True),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bin_id"], ["device.id"], name=op.f("fk_property_sorting_event_bin_id_device"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["building_id"], ["region.id"], name=op.f("fk_property_sorting_event_building_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["by_account_id"], ["account.id"], name=op.f("fk_property_sorting_event_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_sorting_event_estate_id_region")),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_property_sorting_event_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_sorting_event")),
        sa.UniqueConstraint("ref", name=op.f("uq_property_sorting_event_ref")),
    )
    with op.batch_alter_table("property_sorting_event", schema=None) as batch_op:
        batch_op.create_index("ix_property_sorting_event_estate_at", ["estate_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_sorting_event_room_id"), ["room_id"], unique=False)
    op.create_table(
        "property_vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column("registered_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_vehicle_estate_id_region")),
        sa.ForeignKeyConstraint(
            ["registered_by_account_id"],
            ["account.id"],
            name=op.f("fk_property_vehicle_registered_by_account_id_account"),
        ),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_property_vehicle_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_vehicle")),
        sa.UniqueConstraint("estate_id", "plate", name="uq_property_vehicle_estate_plate"),
    )
    with op.batch_alter_table("property_vehicle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_vehicle_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_vehicle_region_path"), ["region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_vehicle_room_id"), ["room_id"], unique=False)
    op.create_table(
        "property_facility_fault",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("opened_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_property_facility_fault_case_id_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_property_facility_fault_device_id_device"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_facility_fault_estate_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_facility_fault")),
    )
    with op.batch_alter_table("property_facility_fault", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_facility_fault_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_facility_fault_estate_id"), ["estate_id"], unique=False)
    op.create_table(
        "property_parking_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "estate_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("visitor", sa.Boolean(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exited_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fee_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_property_parking_visit_estate_id_region")),
        sa.ForeignKeyConstraint(
            ["space_id"], ["device.id"], name=op.f("fk_property_parking_visit_space_id_device"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["property_vehicle.id"],
            name=op.f("fk_property_parking_visit_vehicle_id_property_vehicle"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_parking_visit")),
    )
    with op.batch_alter_table("property_parking_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_parking_visit_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_property_parking_visit_estate_path"), ["estate_path"], unique=False)
        batch_op.create_index(
            "ix_property_parking_visit_estate_plate_status", ["estate_id", "plate", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("property_parking_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_property_parking_visit_estate_plate_status")
        batch_op.drop_index(batch_op.f("ix_property_parking_visit_estate_path"))
        batch_op.drop_index(batch_op.f("ix_property_parking_visit_estate_id"))
    op.drop_table("property_parking_visit")
    with op.batch_alter_table("property_facility_fault", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_facility_fault_estate_id"))
        batch_op.drop_index(batch_op.f("ix_property_facility_fault_device_id"))
    op.drop_table("property_facility_fault")
    with op.batch_alter_table("property_vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_vehicle_room_id"))
        batch_op.drop_index(batch_op.f("ix_property_vehicle_region_path"))
        batch_op.drop_index(batch_op.f("ix_property_vehicle_estate_id"))
    op.drop_table("property_vehicle")
    with op.batch_alter_table("property_sorting_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_sorting_event_room_id"))
        batch_op.drop_index("ix_property_sorting_event_estate_at")
    op.drop_table("property_sorting_event")
    with op.batch_alter_table("property_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_payment_payer_account_id"))
        batch_op.drop_index(batch_op.f("ix_property_payment_bill_id"))
    op.drop_table("property_payment")
    with op.batch_alter_table("property_tariff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_tariff_estate_path"))
    op.drop_table("property_tariff")
    with op.batch_alter_table("property_parking_lease", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_parking_lease_space_id"))
        batch_op.drop_index(batch_op.f("ix_property_parking_lease_room_id"))
        batch_op.drop_index(batch_op.f("ix_property_parking_lease_estate_id"))
    op.drop_table("property_parking_lease")
    with op.batch_alter_table("property_parking_event", schema=None) as batch_op:
        batch_op.drop_index("ix_property_parking_event_estate_plate_at")
        batch_op.drop_index(batch_op.f("ix_property_parking_event_estate_id"))
    op.drop_table("property_parking_event")
    with op.batch_alter_table("property_parcel", schema=None) as batch_op:
        batch_op.drop_index("ix_property_parcel_status_deposited_at")
        batch_op.drop_index(batch_op.f("ix_property_parcel_room_id"))
        batch_op.drop_index(batch_op.f("ix_property_parcel_recipient_person_id"))
        batch_op.drop_index("ix_property_parcel_locker_status")
        batch_op.drop_index(batch_op.f("ix_property_parcel_estate_path"))
        batch_op.drop_index(batch_op.f("ix_property_parcel_estate_id"))
        batch_op.drop_index(batch_op.f("ix_property_parcel_code_hash"))
    op.drop_table("property_parcel")
    op.drop_table("property_meter_reading")
    with op.batch_alter_table("property_bill", schema=None) as batch_op:
        batch_op.drop_index("ix_property_bill_status_due_at")
        batch_op.drop_index(batch_op.f("ix_property_bill_room_id"))
        batch_op.drop_index(batch_op.f("ix_property_bill_region_path"))
        batch_op.drop_index(batch_op.f("ix_property_bill_period"))
        batch_op.drop_index(batch_op.f("ix_property_bill_estate_id"))
        batch_op.drop_index(batch_op.f("ix_property_bill_building_id"))
    op.drop_table("property_bill")
    with op.batch_alter_table("property_household_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_household_points_estate_id"))
    op.drop_table("property_household_points")
