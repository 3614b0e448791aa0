"""Persons, households, residences, organisations, departments and the 权责清单."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, PathType, UTCDateTime, utcnow


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class Relation(StrEnum):
    OWNER = "owner"  # 业主
    TENANT = "tenant"  # 租户
    FAMILY = "family"  # 家庭成员
    COLLECTIVE = "collective"  # 集体户


class Tag(StrEnum):
    ELDERLY = "elderly"  # 60+
    LIVING_ALONE = "living_alone"  # 独居
    DISABLED = "disabled"  # 残疾
    PREGNANT = "pregnant"  # 孕产妇
    KEY_GROUP = "key_group"  # 重点人群
    LOW_INCOME = "low_income"  # 低保
    VETERAN = "veteran"  # 退役军人
    CHILD = "child"  # 未成年
    PARTY_MEMBER = "party_member"  # 党员
    VOLUNTEER = "volunteer"  # 志愿者


class OrganisationKind(StrEnum):
    ENTERPRISE = "enterprise"
    PROPERTY_COMPANY = "property_company"  # 物业公司
    MERCHANT = "merchant"  # 商户
    NGO = "ngo"  # 社会组织


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[str] = mapped_column(String(8), default=Gender.UNKNOWN)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Encrypted (AES-GCM, key id in the value) and found by HMAC blind index.
    id_number_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # Where the person lives now (a room, or a coarser region), denormalised for scoped lists.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True, index=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_person_region_path_id", "region_path", "id"),)


class PersonTag(Base):
    __tablename__ = "person_tag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(32), index=True)

    __table_args__ = (UniqueConstraint("person_id", "tag", name="uq_person_tag_person_tag"),)


class Household(Base):
    """户: the people registered at one room as one household."""

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    head_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Residence(Base):
    __tablename__ = "residence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), nullable=True, index=True)
    relation: Mapped[str] = mapped_column(String(16))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Responsibility(Base):
    """权责清单: for this case category in this region (subtree), this department answers."""

    __tablename__ = "responsibility"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    case_category: Mapped[str] = mapped_column(String(64), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)

    __table_args__ = (
        UniqueConstraint("case_category", "region_id", "department_id", name="uq_responsibility_cat_region_dept"),
    )
